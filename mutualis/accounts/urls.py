from django.urls import path

from mutualis.accounts import views

app_name = "accounts"
urlpatterns = [
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("deconnexion/", views.LogoutView.as_view(), name="logout"),
    path("profil/", views.profile, name="profile"),
    path("jetons/", views.token_create, name="token_create"),
    path("jetons/<int:pk>/revoquer/", views.token_revoke, name="token_revoke"),
    path("2fa/", views.otp_verify, name="otp_verify"),
    path("2fa/enrolement/", views.otp_enrol, name="otp_enrol"),
]
