"""Log-in protection: who must use a second factor, TOTP devices, and the client's address."""

import io
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.shortcuts import render
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from .choices import Role

# They can see and change every card of an area (or all of them): a password alone is too little.
SECOND_FACTOR_REQUIRED = frozenset({Role.ADMINISTRATOR, Role.MANAGER})
DEVICE_NAME = "Authenticator app"


def client_ip_address(request) -> str | None:
    """The address django-axes locks out, counting only the proxies we were told to trust.

    Each trusted proxy appends the address it saw to X-Forwarded-For, so the client is
    TOKUI_PROXY_COUNT entries from the right; anything further left the client wrote itself.
    """
    proxies = settings.TOKUI_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def second_factor_required(user) -> bool:
    return user.is_authenticated and user.role in SECOND_FACTOR_REQUIRED


def confirmed_device(user) -> TOTPDevice | None:
    return next(iter(devices_for_user(user, confirmed=True)), None)


def pending_device(user) -> TOTPDevice:
    """The unconfirmed device the set-up page shows, made on first visit and kept until confirmed.

    Keeping it means a reload shows the same secret the user may already have scanned.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def device_confirm(*, request, device: TOTPDevice, code: str) -> bool:
    """Confirm ``device`` with a code from the app; it replaces any earlier device.

    The session counts as verified with it at once: the user just proved they hold it.
    """
    if not device.verify_token(code.strip()):
        return False
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    request.session.pop("tokui_no_second_factor", None)
    request.user.otp_device = device
    return True


def qr_code_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG: drawn here, so the secret never leaves us."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    # Drop the XML declaration: the SVG goes inside an HTML page.
    return svg[svg.index("<svg") :]


def secret_for_typing(device: TOTPDevice) -> str:
    """The base32 secret in groups of four, for apps that cannot scan."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out log-in: our page, saying for how long."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(
        request,
        "registration/lockout.html",
        context,
        status=getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429),
    )
