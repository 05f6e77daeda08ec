"""Login (throttled), logout, password reset by mail, profile with API tokens, second factor (TOTP)
verification and enrolment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token

from mutualis.accounts import services
from mutualis.accounts.middleware import second_factor_url
from mutualis.accounts.models import ApiToken
from mutualis.accounts.requests import signed_in
from mutualis.accounts.throttle import client_ip


class BreakGlassAuthenticationForm(AuthenticationForm):
    """With single sign-on on, the password form is the break-glass door: superusers only (their
    second factor is then mandatory, see SecondFactorMiddleware)."""

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if settings.OIDC_ENABLED and not user.is_superuser:
            raise ValidationError(
                _("Connectez-vous avec le compte de votre collectivité (authentification unique)."),
                code="sso_only",
            )


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    form_class = BreakGlassAuthenticationForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "sso_enabled": settings.OIDC_ENABLED}


def locked_out(request: HttpRequest, original_response: HttpResponse | None, credentials: Any) -> HttpResponse:
    """The page django-axes shows instead of the login form while the account or the address is
    locked out (AXES_LOCKOUT_CALLABLE); 429 so scripts see it too."""
    context = {
        "cooloff_minutes": settings.LOGIN_COOLOFF_MINUTES,
        "password_reset_enabled": not settings.OIDC_ENABLED,
    }
    return render(request, "accounts/locked_out.html", context, status=429)


# --- Password reset by mail ----------------------------------------------------------------
# Django's views, themed; the service sends the mail, counts the requests and audits. Only for
# local accounts: with single sign-on on, passwords belong to the identity provider (404 here).


class LocalPasswordsOnly:
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if settings.OIDC_ENABLED:
            raise Http404
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class ResetRequestForm(PasswordResetForm):
    email = forms.EmailField(
        label=gettext_lazy("Adresse électronique de votre compte"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class PasswordResetView(LocalPasswordsOnly, auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    form_class = ResetRequestForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        try:
            services.password_reset_request(email=form.cleaned_data["email"], ip_address=client_ip(self.request))
        except services.PasswordResetThrottled:
            form.add_error(None, _("Trop de demandes de nouveau mot de passe : réessayez dans une heure."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return redirect(self.success_url)


class PasswordResetDoneView(LocalPasswordsOnly, auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class ResetSetPasswordForm(SetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("Nouveau mot de passe")
        self.fields["new_password2"].label = _("Le même, pour confirmer")

    def save(self, commit: bool = True) -> Any:
        services.password_reset_complete(user=self.user, password=self.cleaned_data["new_password1"])
        return self.user


class PasswordResetConfirmView(LocalPasswordsOnly, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = ResetSetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(LocalPasswordsOnly, auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# Where to send the browser once signed out when the session also lives elsewhere (identity: the
# single sign-on provider's end-session page), or None: registered from the AppConfig.ready of the
# app above that knows, so accounts does not import it.
_logout_targets: list[Callable[[HttpRequest], str | None]] = []


def logout_target_register(target: Callable[[HttpRequest], str | None]) -> None:
    if target not in _logout_targets:
        _logout_targets.append(target)


class LogoutView(auth_views.LogoutView):
    """After a single sign-on session, logging out also ends the provider's session."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        for logout_target in _logout_targets:
            target = logout_target(request)  # read before the session is flushed
            if target:
                auth_logout(request)
                return redirect(target)
        return super().post(request, *args, **kwargs)


def _next(request: HttpRequest) -> str:
    target = request.GET.get("next") or request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return "/"
    return target


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code à 6 chiffres"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    if not services.has_confirmed_device(user):
        return redirect(second_factor_url("accounts:otp_enrol", _next(request)))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error("token", _("Code incorrect ou expiré."))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next(request)})


@login_required
def otp_enrol(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    # is_verified() is set on the request's user by django-otp's OTPMiddleware, not on the model.
    if services.has_confirmed_device(user) and not user.is_verified():  # type: ignore[attr-defined]
        # Enrolling another device must take the current one: else a stolen password would do.
        return redirect(second_factor_url("accounts:otp_verify", _next(request)))
    device = services.totp_device_for_enrolment(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_confirm(user=user, device=device, token=form.cleaned_data["token"]):
            otp_login(request, device)
            messages.success(request, _("Second facteur enregistré."))
            return redirect(_next(request))
        form.add_error("token", _("Code incorrect : vérifiez l'heure de votre téléphone et réessayez."))
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/otp_enrol.html",
        {"form": form, "secret": secret, "uri": device.config_url, "next": _next(request)},
    )


def _profile_page(request: HttpRequest, new_secret: str | None = None) -> HttpResponse:
    tokens = ApiToken.objects.filter(user=signed_in(request)).order_by("-created_at")
    context = {
        "tokens": tokens,
        "new_secret": new_secret,
        "tokens_need_second_factor": services.api_token_needs_second_factor(signed_in(request)),
    }
    return render(request, "accounts/profile.html", context)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return _profile_page(request)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    try:
        _token, secret = services.api_token_create(actor=signed_in(request), name=request.POST.get("name", ""))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("accounts:profile")
    # Shown in this response only: kept in the session it would sit in the database until read.
    return _profile_page(request, new_secret=secret)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in(request)
    token = get_object_or_404(ApiToken, pk=pk, user=user)
    services.api_token_revoke(actor=user, token=token)
    messages.success(request, _("Jeton révoqué."))
    return redirect("accounts:profile")
