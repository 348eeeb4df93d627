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
    path("", views.home, name="home"),
]
