from django.urls import path

from mutualis.accounts import views

app_name = "accounts"
urlpatterns = [
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("deconnexion/", views.LogoutView.as_view(), name="logout"),
    path("mot-de-passe/oubli/", views.PasswordResetView.as_view(), name="password_reset"),
    path("mot-de-passe/oubli/envoye/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("mot-de-passe/nouveau/termine/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("profil/", views.profile, name="profile"),
    path("jetons/", views.token_create, name="token_create"),
    path("jetons/<int:pk>/revoquer/", views.token_revoke, name="token_revoke"),
    path("2fa/", views.otp_verify, name="otp_verify"),
    path("2fa/enrolement/", views.otp_enrol, name="otp_enrol"),
]
