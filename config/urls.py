from django.contrib.auth import views as auth_views
from django.urls import include, path

from tokui.core.views import home

urlpatterns = [
    path("", home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("tokui.users.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("customers/", include("tokui.customers.urls")),
    path("fields/", include("tokui.fields.urls")),
    path("sales/", include("tokui.sales.urls")),
    path("imports/", include("tokui.sales.urls_imports")),
    path("audit/", include("tokui.audit.urls")),
    path("approvals/", include("tokui.approvals.urls")),
    path("api/v1/", include("tokui.core.api_urls")),
]

# Paths under /api/ that match no route answer in JSON; other pages keep Django's 404 page.
handler404 = "tokui.core.views.not_found"
