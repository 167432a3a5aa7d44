"""``{% load access %}``: whether the signed-in user may open the access or change log."""

from django import template

from tokui.audit import selectors
from tokui.users.roles import ACCESS_LOG, has_permission

register = template.Library()


@register.filter
def may_read_access_log(user) -> bool:
    return has_permission(user, ACCESS_LOG, "view")


@register.filter
def may_read_change_log(user) -> bool:
    return selectors.may_read_change_log(user)
