from django.urls import path

from aixin.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/otp/", views.otp_verify, name="otp_verify"),
    path("login/otp/enrol/", views.otp_enrol, name="otp_enrol"),
    path("logout/", views.logout_view, name="logout"),
    path("account/otp/", views.otp_setup, name="otp_setup"),
    path("account/password/", views.password_change_view, name="password_change"),
    path("accounts/", views.user_list, name="user_list"),
    path("accounts/new/", views.user_create, name="user_create"),
    path("accounts/<int:pk>/", views.user_edit, name="user_edit"),
    path("accounts/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
    path("accounts/<int:pk>/reset-totp/", views.user_reset_totp, name="user_reset_totp"),
    path("system/", views.system_status, name="system_status"),
    path("", views.home, name="home"),
]
