"""Test clients that sign in the whole way: password and, where required, second factor."""

from django.conf import settings
from django.http import HttpRequest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tokui.users.auth import confirmed_device, second_factor_required


def confirm_totp_device(user) -> TOTPDevice:
    """The user's confirmed TOTP device, made if they have none (as the set-up page would)."""
    return confirmed_device(user) or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=True
    )


def bearer(user, scope: str = "write") -> str:
    """An ``Authorization`` header value with a new API token of ``user``'s."""
    from tokui.users.services import token_create

    _token, raw = token_create(user=user, name="test", scope=scope)
    return f"Bearer {raw}"


def current_totp_code(device: TOTPDevice) -> str:
    """The code the user's authenticator app shows right now."""
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(code).zfill(device.digits)


class TwoFactorClient(Client):
    """The test client, signed in the whole way: password *and* second factor.

    Administrators and managers must pass a second factor, so ``force_login`` and
    ``login`` also do what entering the code does: the session is marked verified with
    the user's confirmed device (made when they have none). ``verified=False`` stops
    after the password, for tests of the second factor itself. ``login`` hands
    django-axes the request it needs to count failures by address.
    """

    def force_login(self, user, backend=None, verified=True):
        super().force_login(user, backend)
        if verified:
            self._verify(user)

    def login(self, verified=True, **credentials):
        request = HttpRequest()
        request.META["REMOTE_ADDR"] = "127.0.0.1"
        logged_in = super().login(request=request, **credentials)
        if logged_in and verified:
            from django.contrib.auth import get_user_model

            self._verify(get_user_model().objects.get(pk=self.session["_auth_user_id"]))
        return logged_in

    def _verify(self, user):
        if not (second_factor_required(user) or confirmed_device(user)):
            return
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = confirm_totp_device(user).persistent_id
        session.save()

    def sign_in(self, user):
        """Sign ``user`` in the whole way by writing their session directly: one insert.

        For tests that sign many users in (the route matrix): the log-in's signals
        (django-axes' record, last log-in) are skipped, which such tests do not look at.
        """
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

        from tokui.users.middleware import NO_DEVICE_SESSION_KEY

        session = self.session
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        device = confirmed_device(user)
        if device is None and second_factor_required(user):
            device = confirm_totp_device(user)
        if device is None:
            session[NO_DEVICE_SESSION_KEY] = user.pk
        else:
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        self.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
