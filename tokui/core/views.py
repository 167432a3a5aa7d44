from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from tokui.customers.selectors import customer_counts_by_status
from tokui.users.roles import CUSTOMER, has_permission


@login_required
def home(request):
    """Staff who work with cards go to the list; analysts see the aggregate overview."""
    if has_permission(request.user, CUSTOMER, "view"):
        return redirect("customers:list")
    return render(request, "core/overview.html", {"counts": customer_counts_by_status()})
