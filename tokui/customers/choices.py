from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")
    SHOP = "shop", _("Shop")


class CustomerStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")
    BLOCKED = "blocked", _("Blocked")


class Relation(models.TextChoices):
    CONTACT = "contact", _("Contact person")
    OWNER = "owner", _("Owner")
    REPRESENTATIVE = "representative", _("Legal representative")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    FAMILY = "family", _("Other family member")
    STAFF = "staff", _("Staff member")
    OTHER = "other", _("Other")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")


class AddressKind(models.TextChoices):
    BUSINESS = "business", _("Business")
    HOME = "home", _("Home")
    DELIVERY = "delivery", _("Delivery")
    BILLING = "billing", _("Billing")
    MAILING = "mailing", _("Mailing")


class Channel(models.TextChoices):
    LETTER = "letter", _("Letter")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    VISIT = "visit", _("Visit")
