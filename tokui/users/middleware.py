"""Middleware for the second factor and for keeping customer data out of caches."""

from django.contrib.auth.models import AnonymousUser
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode

from .auth import confirmed_device, second_factor_required

API_PREFIX = "/api/"
# Set on a session whose user has no device and needs none.
NO_DEVICE_SESSION_KEY = "tokui_no_second_factor"


class SecondFactorMiddleware:
    """Hold back a signed-in session until its second factor is done.

    A user with a confirmed TOTP device goes to the code page until they enter a code;
    an administrator or manager without one goes to the set-up page. Until then their
    session reaches no other page and is anonymous to the API. Requests carrying an
    ``Authorization`` header are the API token's business and pass untouched.
    Must come after django-otp's OTPMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return self.get_response(request)
        if request.session.get(NO_DEVICE_SESSION_KEY) == user.pk:
            return self.get_response(request)
        if confirmed_device(user) is not None:
            target = "users:otp_verify"
        elif second_factor_required(user):
            target = "users:otp_setup"
        else:
            # Saves a query on every later request. A device set up elsewhere afterwards
            # is asked for from this browser at its next log-in (log-out clears the session).
            request.session[NO_DEVICE_SESSION_KEY] = user.pk
            return self.get_response(request)
        if request.path.startswith(API_PREFIX):
            if "HTTP_AUTHORIZATION" not in request.META:
                request.user = AnonymousUser()
            return self.get_response(request)
        allowed = {reverse(target), reverse("logout"), reverse("set_language")}
        if request.path in allowed:
            return self.get_response(request)
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every signed-in page and every API answer.

    Such responses may show customer data: neither the browser's back-button cache nor
    a shared proxy may keep a copy. Static files never reach this middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX) or request.user.is_authenticated:
            add_never_cache_headers(response)
        return response
