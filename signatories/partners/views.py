"""Partner pages: the operator's list, partner, requests, import and export; the hotel
signatory's incoming requests; the public confirmation page; the staff rates and audit.

Every company page starts from a scoped selector (404 for anyone who may not see it); writes
call one service each.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.throttling import AnonRateThrottle

from code_portal.errors import DomainError
from signatories.models import Signatory
from signatories.partners import exports, selectors, services
from signatories.partners.filters import PartnerFilter
from signatories.partners.forms import ConfirmForm, DeclineForm, ImportForm, PartnerForm
from signatories.partners.importer import COLUMNS, OPTIONAL
from signatories.partners.models import ConfirmationRequest, PartnerImportJob, RequestStatus

PER_PAGE = 25
R = RequestStatus


class ConfirmThrottle(AnonRateThrottle):
    """Public confirmation links, page and API alike: one budget per client address."""

    scope = "partner_confirm"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def client_ip(request) -> str | None:
    """The client address as the rate limit sees it (trusting TRUSTED_PROXY_COUNT proxies)."""
    return ConfirmThrottle().get_ident(request) or None


def _page(request: HttpRequest, qs, per_page: int = PER_PAGE):
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


def _query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _ctx(request: HttpRequest, signatory: Signatory, **extra) -> dict:
    user = request.user
    return {"signatory": signatory,
            "can_manage": user.has_perm("partners.manage_partners", signatory),
            "can_send": user.has_perm("partners.send_requests", signatory),
            "can_import": user.has_perm("partners.import_partners", signatory), **extra}


# --- The operator's pages ----------------------------------------------------------------------------

@login_required
def partner_list(request: HttpRequest, pk: int) -> HttpResponse:
    signatory = selectors.partner_signatory_for(request.user, pk)
    if request.method == "POST":
        return _bulk_send(request, signatory)
    partners = selectors.partner_list_for(request.user, signatory)
    filterset = PartnerFilter(request.GET or None, queryset=partners)
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else partners
    today = timezone.localdate()
    return render(request, "partners/partner_list.html", _ctx(
        request, signatory, filter=filterset, page=_page(request, qs), query=_query(request),
        summary=selectors.confirmation_summary(Signatory.objects.filter(pk=signatory.pk), today),
        counts=selectors.partner_status_counts(partners), today=today))


def _bulk_send(request: HttpRequest, signatory: Signatory) -> HttpResponse:
    if not request.user.has_perm("partners.send_requests", signatory):
        raise PermissionDenied
    every = request.POST.get("scope") == "all"
    ids = None if every else [int(v) for v in request.POST.getlist("partner") if v.isdigit()]
    if ids is not None and not ids:
        messages.error(request, _("Choose at least one partner."))
        return redirect("partner-list", pk=signatory.pk)
    result = services.confirmation_requests_send(actor=request.user, signatory=signatory,
                                                 partner_ids=ids)
    messages.success(request, _("Requests sent: %(sent)s. Already waiting for an answer: "
                                "%(pending)s. Without an e-mail address: %(none)s.")
                     % {"sent": len(result.sent), "pending": result.already_pending,
                        "none": result.without_email})
    return redirect("partner-list", pk=signatory.pk)


@login_required
def partner_create(request: HttpRequest, pk: int) -> HttpResponse:
    signatory = selectors.partner_signatory_for(request.user, pk)
    if not request.user.has_perm("partners.manage_partners", signatory):
        raise PermissionDenied
    form = PartnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner = services.partner_create(actor=request.user, signatory=signatory,
                                              data=form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Partner added."))
            return redirect("partner-detail", pk=signatory.pk, partner_pk=partner.pk)
    return render(request, "partners/partner_form.html", _ctx(request, signatory, form=form))


@login_required
def partner_detail(request: HttpRequest, pk: int, partner_pk: int) -> HttpResponse:
    signatory = selectors.partner_signatory_for(request.user, pk)
    partner = selectors.partner_get_for(request.user, partner_pk, signatory)
    can_manage = request.user.has_perm("partners.manage_partners", signatory)
    return render(request, "partners/partner_detail.html", _ctx(
        request, signatory, partner=partner,
        requests=_page(request, selectors.request_list_for(request.user, partner)),
        suggestions=selectors.link_suggestions(partner) if can_manage else []))


@login_required
def partner_edit(request: HttpRequest, pk: int, partner_pk: int) -> HttpResponse:
    signatory = selectors.partner_signatory_for(request.user, pk)
    partner = selectors.partner_get_for(request.user, partner_pk, signatory)
    if not request.user.has_perm("partners.manage_partners", signatory):
        raise PermissionDenied
    form = PartnerForm(request.POST or None, instance=partner)
    if request.method == "POST" and form.is_valid():
        try:
            services.partner_update(actor=request.user, partner=partner, data=form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Partner saved."))
            return redirect("partner-detail", pk=signatory.pk, partner_pk=partner.pk)
    return render(request, "partners/partner_form.html",
                  _ctx(request, signatory, form=form, partner=partner))


@login_required
def partner_delete(request: HttpRequest, pk: int, partner_pk: int) -> HttpResponse:
    signatory = selectors.partner_signatory_for(request.user, pk)
    partner = selectors.partner_get_for(request.user, partner_pk, signatory)
    if not request.user.has_perm("partners.manage_partners", signatory):
        raise PermissionDenied
    if request.method == "POST":
        services.partner_delete(actor=request.user, partner=partner)
        messages.success(request, _("Partner deleted."))
        return redirect("partner-list", pk=signatory.pk)
    return render(request, "partners/partner_delete.html",
                  _ctx(request, signatory, partner=partner))


@login_required
@require_POST
def partner_send(request: HttpRequest, pk: int, partner_pk: int) -> HttpResponse:
    signatory = selectors.partner_signatory_for(request.user, pk)
    partner = selectors.partner_get_for(request.user, partner_pk, signatory)
    try:
        services.confirmation_request_send(actor=request.user, partner=partner)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The request has been sent to %(email)s.")
                         % {"email": partner.contact_email})
    return redirect("partner-detail", pk=signatory.pk, partner_pk=partner.pk)


@login_required
@require_POST
def request_cancel(request: HttpRequest, pk: int, partner_pk: int, request_pk: int) -> HttpResponse:
    signatory = selectors.partner_signatory_for(request.user, pk)
    partner = selectors.partner_get_for(request.user, partner_pk, signatory)
    try:
        req = selectors.request_list_for(request.user, partner).get(pk=request_pk)
    except ConfirmationRequest.DoesNotExist as exc:
        raise Http404 from exc
    try:
        services.confirmation_request_cancel(actor=request.user, request=req)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The request was cancelled: its link no longer works."))
    return redirect("partner-detail", pk=signatory.pk, partner_pk=partner.pk)


@login_required
@require_POST
def partner_link(request: HttpRequest, pk: int, partner_pk: int) -> HttpResponse:
    signatory = selectors.partner_signatory_for(request.user, pk)
    partner = selectors.partner_get_for(request.user, partner_pk, signatory)
    linked = None
    if request.POST.get("linked_signatory"):
        candidates = {s.pk: s for s in selectors.link_suggestions(partner)}
        linked = candidates.get(int(request.POST["linked_signatory"])
                                if request.POST["linked_signatory"].isdigit() else 0)
        if linked is None:
            raise Http404
    try:
        services.partner_link(actor=request.user, partner=partner, linked=linked)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Partner linked.") if linked else _("Link removed."))
    return redirect("partner-detail", pk=signatory.pk, partner_pk=partner.pk)


@login_required
def partner_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    signatory = selectors.partner_signatory_for(request.user, pk)
    if not request.user.has_perm("partners.export_partners", signatory):
        raise PermissionDenied
    return exports.partners_response(selectors.partner_list_for(request.user, signatory), fmt,
                                     today=timezone.localdate())


# --- Import ----------------------------------------------------------------------------------------

@login_required
def import_upload(request: HttpRequest, pk: int) -> HttpResponse:
    signatory = selectors.partner_signatory_for(request.user, pk)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not request.user.has_perm("partners.import_partners", signatory):
            raise PermissionDenied
        if form.is_valid():
            try:
                job = services.partner_import_create(
                    actor=request.user, signatory=signatory, upload=form.cleaned_data["file"],
                    import_valid_rows=form.cleaned_data["import_valid_rows"])
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("The file has been received and is being imported."))
                return redirect("partner-import-detail", pk=signatory.pk, job_pk=job.pk)
    jobs = (PartnerImportJob.objects.filter(signatory=signatory).select_related("uploaded_by")
            .defer("errors").order_by("-created_at", "-id"))
    return render(request, "partners/import_upload.html", _ctx(
        request, signatory, form=form, page=_page(request, jobs, 20), columns=COLUMNS + OPTIONAL))


def _import_ctx(request: HttpRequest, signatory: Signatory, job: PartnerImportJob) -> dict:
    row_errors = [e for e in job.errors if e.get("line")] if job.finished else []
    return _ctx(request, signatory, job=job, finished=job.finished, row_errors=row_errors[:500],
                error_rows=len(row_errors),
                file_errors=[m for e in job.errors if not e.get("line") for m in e["errors"]])


@login_required
def import_detail(request: HttpRequest, pk: int, job_pk: int) -> HttpResponse:
    signatory = selectors.partner_signatory_for(request.user, pk)
    job = selectors.import_get_for(request.user, signatory, job_pk)
    return render(request, "partners/import_detail.html", _import_ctx(request, signatory, job))


@login_required
def import_progress(request: HttpRequest, pk: int, job_pk: int) -> HttpResponse:
    signatory = selectors.partner_signatory_for(request.user, pk)
    job = selectors.import_get_for(request.user, signatory, job_pk)
    response = render(request, "partners/import_progress.html", _import_ctx(request, signatory, job))
    response["Cache-Control"] = "no-store"
    return response


@login_required
def import_template(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    selectors.partner_signatory_for(request.user, pk)
    return exports.template_response(fmt)


# --- A hotel that is itself a signatory -------------------------------------------------------------

@login_required
def addressed_list(request: HttpRequest, pk: int) -> HttpResponse:
    hotel = selectors.addressed_signatory_for(request.user, pk)
    requests = selectors.addressed_requests_for(request.user, hotel)
    return render(request, "partners/addressed_list.html", {
        "signatory": hotel, "page": _page(request, requests),
        "can_respond": request.user.has_perm("partners.respond_requests", hotel)})


@login_required
def addressed_answer(request: HttpRequest, pk: int, request_pk: int) -> HttpResponse:
    hotel = selectors.addressed_signatory_for(request.user, pk)
    req = selectors.addressed_request_get_for(request.user, hotel, request_pk)
    can_respond = request.user.has_perm("partners.respond_requests", hotel)
    if request.method == "POST" and not can_respond:
        raise PermissionDenied
    initial = {"name": request.user.full_name}
    response = _answer(request, req, actor=request.user, initial=initial)
    if response is not None:
        return redirect("partner-addressed-list", pk=hotel.pk)
    return render(request, "partners/answer.html", {
        **_answer_ctx(request, req, initial), "signatory": hotel, "can_respond": can_respond,
        "in_account": True})


def _answer(request: HttpRequest, req: ConfirmationRequest, *, actor, initial: dict):
    """Handle a POSTed confirm/decline; returns the request when it was answered."""
    if request.method != "POST":
        return None
    action = request.POST.get("action")
    form = ConfirmForm(request.POST) if action == "confirm" else DeclineForm(request.POST)
    request._answer_form = form
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        if action == "confirm":
            req = services.confirmation_confirm(
                request_id=req.pk, name=data["name"], position=data["position"], when=data["date"],
                ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""),
                actor=actor)
        else:
            req = services.confirmation_decline(
                request_id=req.pk, name=data["name"], position=data["position"],
                reason=data["reason"], ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""), actor=actor)
    except DomainError as exc:
        _form_error(form, exc)
        return None
    messages.success(request, _("Thank you: your confirmation has been recorded.")
                     if req.status == R.CONFIRMED else _("Your answer has been recorded."))
    return req


def _answer_ctx(request: HttpRequest, req: ConfirmationRequest, initial: dict) -> dict:
    posted = getattr(request, "_answer_form", None)
    action = request.POST.get("action") if request.method == "POST" else None
    guidelines = req.guidelines_version if req.status in (R.CONFIRMED, R.DECLINED) else None
    guidelines = guidelines or selectors.current_guidelines()
    return {
        "req": req,
        "guidelines": guidelines,
        "guidelines_text": guidelines.text_in(req.language or translation.get_language())
        if guidelines else None,
        "confirm_form": posted if action == "confirm" and posted else ConfirmForm(initial=initial),
        "decline_form": posted if action == "decline" and posted else DeclineForm(initial=initial),
        "state": req.effective_status,
    }


# --- The public link ------------------------------------------------------------------------------------

def _throttled(request: HttpRequest) -> HttpResponse | None:
    throttle = ConfirmThrottle()
    if throttle.allow_request(request, None):
        return None
    response = render(request, "partners/public_confirm.html", {"throttled": True}, status=429)
    response["Retry-After"] = str(int(throttle.wait() or 60))
    return response


def _language_of(request: HttpRequest, req: ConfirmationRequest | None) -> str:
    """The hotel's language, unless the visitor picked one with the language switch."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return chosen or (req.language if req else "") or translation.get_language()


def public_confirm(request: HttpRequest, token: str) -> HttpResponse:
    limited = _throttled(request)
    if limited:
        return limited
    req = selectors.request_by_token(token)
    if req is None:
        return render(request, "partners/public_confirm.html", {"unknown": True}, status=404)
    with translation.override(_language_of(request, req)):
        answered = _answer(request, req, actor=None, initial={})
        if answered is not None:
            return redirect("partner-confirm", token=token)
        if request.method == "GET" and req.link_expired and req.status == R.PENDING:
            # opening an expired link is the moment we know it: record the state change
            services.confirmation_requests_expire_one(request_id=req.pk)
            req.refresh_from_db()
        response = render(request, "partners/public_confirm.html", {
            **_answer_ctx(request, req, {}), "token": token,
            "operator": req.signatory.display_name})
    response["Cache-Control"] = "no-store"
    # the token is in the URL: never send it to another site (same-origin keeps the CSRF
    # Origin check working; "no-referrer" makes browsers post "Origin: null")
    response["Referrer-Policy"] = "same-origin"
    return response


@require_POST
def public_new_link(request: HttpRequest, token: str) -> HttpResponse:
    limited = _throttled(request)
    if limited:
        return limited
    req = selectors.request_by_token(token)
    if req is None:
        return render(request, "partners/public_confirm.html", {"unknown": True}, status=404)
    outcome = services.confirmation_new_link(request_id=req.pk)
    with translation.override(_language_of(request, req)):
        return render(request, "partners/public_new_link.html",
                      {"outcome": outcome, "operator": req.signatory.display_name})


# --- Code staff -------------------------------------------------------------------------------------

@login_required
def staff_rates(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("partners.view_rates"):
        raise Http404
    today = timezone.localdate()
    page = _page(request, selectors.rates_signatories_for(request.user))
    figures = selectors.rates_for_signatories([s.pk for s in page.object_list], today)
    rows = [{**figures[s.pk], "signatory": s} for s in page.object_list]
    return render(request, "partners/staff_rates.html", {
        "page": page, "rows": rows, "countries": selectors.rates_by_country(request.user, today),
        "today": today})


@login_required
def staff_signatory_requests(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm("partners.view_rates"):
        raise Http404
    signatory = selectors.partner_signatory_for(request.user, pk)
    requests = (ConfirmationRequest.objects.filter(signatory=signatory)
                .select_related("partner").order_by("-sent_at", "-id"))
    return render(request, "partners/staff_requests.html",
                  {"signatory": signatory, "page": _page(request, requests)})


@login_required
def staff_confirmation(request: HttpRequest, request_pk: int) -> HttpResponse:
    req = selectors.confirmation_audit_get_for(request.user, request_pk)
    return render(request, "partners/staff_confirmation.html", {"req": req})
