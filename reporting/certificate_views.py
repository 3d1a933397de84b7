"""Certificate pages: the public verification page, the company's list and PDF downloads, and
the staff pages (revoke, re-issue, bulk regeneration with a polled progress bar)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_countries import countries
from rest_framework.throttling import AnonRateThrottle

from code_portal.errors import DomainError
from code_portal.private_files import private_file_response
from reporting import certificates as svc
from reporting.models import Certificate, RegenerationStatus
from signatories.selectors import signatory_get_for


class VerifyThrottle(AnonRateThrottle):
    """Per client address, for the page and the API alike (one budget, one cache key)."""

    scope = "certificate_verify"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}),
                             max_length=2000)


class RegenerateForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)


def public_view(certificate: Certificate) -> dict:
    """The only fields the public sees."""
    state = certificate.state_on(timezone.localdate())
    return {
        "number": certificate.number,
        "company": certificate.company_name,
        "country": certificate.country,
        "country_name": str(countries.name(certificate.country)),
        "year": certificate.year,
        "valid_from": certificate.valid_from,
        "valid_until": certificate.valid_until,
        "status": state,
        "revoked_on": timezone.localdate(certificate.revoked_at) if certificate.revoked_at else None,
    }


def verify_lookup(request: HttpRequest) -> HttpResponse:
    code = svc.normalise_code(request.GET.get("code", ""))
    if code:
        return redirect("certificate-verify", code=code)
    return render(request, "reporting/certificates/verify.html", {"lookup": True})


def verify(request: HttpRequest, code: str) -> HttpResponse:
    throttle = VerifyThrottle()
    if not throttle.allow_request(request, None):
        response = render(request, "reporting/certificates/verify.html",
                          {"throttled": True, "code": code}, status=429)
        response["Retry-After"] = str(int(throttle.wait() or 60))
        return response
    certificate = svc.certificate_verify(code)
    if certificate is None:
        return render(request, "reporting/certificates/verify.html",
                      {"not_found": True, "code": code}, status=404)
    return render(request, "reporting/certificates/verify.html",
                  {"cert": public_view(certificate), "code": certificate.code})


@login_required
def company_certificates(request: HttpRequest, pk: int) -> HttpResponse:
    signatory = signatory_get_for(request.user, pk)
    certificates = list(svc.certificate_list_for(request.user).filter(signatory=signatory))
    today = timezone.localdate()
    for certificate in certificates:
        certificate.state = certificate.state_on(today)
    return render(request, "reporting/certificates/company_list.html",
                  {"signatory": signatory, "certificates": certificates})


@login_required
def certificate_pdf(request: HttpRequest, pk: int) -> FileResponse:
    certificate = svc.certificate_get_for(request.user, pk)
    return private_file_response(certificate.pdf, filename=f"{certificate.number}.pdf",
                                 content_type="application/pdf")


def _can_manage(request: HttpRequest) -> bool:
    return request.user.has_perm("reporting.manage_certificates", None)


def _require_manager(request: HttpRequest) -> None:
    if not _can_manage(request):
        raise Http404


def _require_code_staff(request: HttpRequest) -> None:
    # Local representatives read the certificates of their countries (the selector scopes them);
    # revoking, re-issuing and regenerating are for central staff.
    if not request.user.is_code_staff:
        raise Http404


@login_required
def staff_certificates(request: HttpRequest) -> HttpResponse:
    _require_code_staff(request)
    qs = svc.certificate_list_for(request.user).order_by("-year", "-sequence")
    year = request.GET.get("year", "")
    if year.isdigit():
        qs = qs.filter(year=int(year))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for certificate in page.object_list:
        certificate.state = certificate.state_on(today)
    can_manage = _can_manage(request)
    jobs = svc.CertificateRegeneration.objects.all()[:5] if can_manage else []
    return render(request, "reporting/certificates/staff_list.html", {
        "page": page, "year": year, "jobs": jobs, "can_manage": can_manage,
        "form": RegenerateForm(initial={"year": year or today.year})})


@login_required
def staff_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    _require_code_staff(request)
    certificate = svc.certificate_get_for(request.user, pk)
    revoke_form, reissue_form = ReasonForm(prefix="revoke"), ReasonForm(prefix="reissue")
    if request.method == "POST":
        if not _can_manage(request):
            raise PermissionDenied
        action = request.POST.get("action")
        form = ReasonForm(request.POST, prefix=action if action in ("revoke", "reissue") else None)
        if action not in ("revoke", "reissue"):
            raise PermissionDenied
        if form.is_valid():
            try:
                if action == "revoke":
                    svc.certificate_revoke(certificate=certificate, actor=request.user,
                                           reason=form.cleaned_data["reason"])
                    messages.success(request, _("The certificate has been revoked."))
                    return redirect("staff-certificate", pk=certificate.pk)
                new = svc.certificate_reissue(certificate=certificate, actor=request.user,
                                              reason=form.cleaned_data["reason"])
                messages.success(request, _("Certificate %(number)s has been issued in its place.")
                                 % {"number": new.number})
                return redirect("staff-certificate", pk=new.pk)
            except DomainError as exc:
                messages.error(request, exc.message)
        if action == "revoke":
            revoke_form = form
        else:
            reissue_form = form
    certificate.state = certificate.state_on(timezone.localdate())
    return render(request, "reporting/certificates/staff_detail.html", {
        "certificate": certificate, "revoke_form": revoke_form, "reissue_form": reissue_form,
        "can_manage": _can_manage(request),
        "replaced_by": Certificate.objects.filter(replaces=certificate).first()})


@login_required
@require_POST
def staff_regenerate(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = RegenerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a year."))
        return redirect("staff-certificates")
    try:
        job = svc.regeneration_start(actor=request.user, year=form.cleaned_data["year"])
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("staff-certificates")
    return redirect("staff-certificate-regeneration", pk=job.pk)


@login_required
def staff_regeneration(request: HttpRequest, pk: int) -> HttpResponse:
    job = svc.regeneration_get_for(request.user, pk)
    context = {"job": job,
               "finished": job.status in (RegenerationStatus.DONE, RegenerationStatus.FAILED)}
    if request.htmx:
        return render(request, "reporting/certificates/_regeneration_progress.html", context)
    return render(request, "reporting/certificates/staff_regeneration.html", context)
