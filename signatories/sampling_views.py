"""Pages for audit samples: list, draw, detail with progress, and the audit of one signatory.

Only Code staff get these pages (others: 404); a local representative sees the samples of their
countries only (see ``selectors.audit_sample_scope_q``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from code_portal.errors import DomainError
from code_portal.models import AuditEvent
from signatories import sampling, selectors
from signatories.filters import AuditSampleFilter
from signatories.forms import AuditItemForm, AuditSampleDrawForm

PAGE_SIZE = 25
ITEMS_PAGE_SIZE = 50


def _staff_only(request: HttpRequest) -> None:
    if not request.user.has_perm("signatories.view_audit_samples"):
        raise Http404


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@login_required
def sample_list(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    filterset = AuditSampleFilter(request.GET or None,
                                  queryset=selectors.audit_sample_list_for(request.user))
    samples = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    signatory = None
    if filterset.is_bound and filterset.is_valid() and filterset.form.cleaned_data["signatory"]:
        # "see all audits" of one signatory, from its dossier: name it (404 if out of scope)
        signatory = selectors.signatory_get_for(request.user,
                                                filterset.form.cleaned_data["signatory"])
    query = request.GET.copy()
    query.pop("page", None)
    page = Paginator(samples, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "signatories/sampling_list.html", {
        "page": page, "signatory": signatory, "filter": filterset,
        "query": query.urlencode(),
        "can_draw": request.user.has_perm("signatories.draw_audit_sample"),
    })


@login_required
def sample_draw(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    if not request.user.has_perm("signatories.draw_audit_sample"):
        raise PermissionDenied
    form = AuditSampleDrawForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sample = sampling.audit_sample_draw(
                actor=request.user, country=data["country"], types=data["types"],
                size=data["size"], percentage=data["percentage"], seed=data["seed"],
                title=data["title"])
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Sample drawn: %(n)d of %(total)d signatories.")
                             % {"n": sample.sample_size, "total": sample.population_size})
            return redirect("staff-audit-sample", pk=sample.pk)
    return render(request, "signatories/sampling_draw.html", {"form": form},
                  status=400 if form.is_bound and form.errors else 200)


@login_required
def sample_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_only(request)
    sample = selectors.audit_sample_get_for(request.user, pk)
    items = selectors.audit_item_list_for(request.user).filter(sample=sample).order_by("position")
    page = Paginator(items, ITEMS_PAGE_SIZE).get_page(request.GET.get("page"))
    verification = sampling.audit_sample_verify(sample) if request.GET.get("verify") else None
    done = sample.closed * 100 // sample.sample_size if sample.sample_size else 0
    return render(request, "signatories/sampling_detail.html", {
        "sample": sample, "page": page, "today": timezone.localdate(), "percent_closed": done,
        "verification": verification,
    })


@login_required
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_only(request)
    item = selectors.audit_item_get_for(request.user, pk)
    can_edit = request.user.has_perm("signatories.edit_audit_item", item)
    initial = {"status": item.status, "auditor": item.auditor_id, "findings": item.findings,
               "outcome": item.outcome, "follow_up_on": item.follow_up_on}
    form = AuditItemForm(request.POST or None, initial=initial,
                         auditors=selectors.auditor_choices_for(item.sample))
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in form.changed_data}
            try:
                sampling.audit_item_update(item=item, actor=request.user, data=data)
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("The audit has been saved."))
                return redirect("staff-audit-sample", pk=item.sample_id)
    history = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(item), object_id=str(item.pk),
    ).select_related("actor")[:50]
    return render(request, "signatories/sampling_item.html", {
        "item": item, "form": form, "can_edit": can_edit, "events": history,
        "today": timezone.localdate(),
    }, status=400 if form.is_bound and form.errors else 200)
