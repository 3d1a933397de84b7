"""HTML pages for signatories: same shape as the API (selector → service → render)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from code_portal.errors import DomainError
from signatories import selectors, services
from signatories.filters import SignatoryFilter
from signatories.forms import (
    AcceptInvitationForm,
    ApplicationForm,
    InvitationForm,
    ReasonForm,
    RoleForm,
    SignatoryProfileForm,
    SignForm,
    StaffNoteForm,
    transition_forms,
)
from signatories.models import CodeVersion, SignatoryStatus
from signatories.permissions import REASON_REQUIRED, TRANSITIONS, allowed_transitions

PAGE_SIZE = 25


def _page(request: HttpRequest, queryset, size: int = PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        if request.user.is_code_staff:
            return redirect("staff-queue")
        companies = list(selectors.signatory_companies_of(request.user))
        if len(companies) == 1:
            return redirect("company-dashboard", pk=companies[0].pk)
        return render(request, "signatories/my_companies.html", {"companies": companies})
    return render(request, "signatories/home.html")


def apply(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items()
                if k in services.PROFILE_FIELDS}
        try:
            if request.user.is_authenticated:
                signatory = services.signatory_apply(data=data, applicant=request.user)
            else:
                signatory = services.signatory_apply(
                    data=data, applicant_email=form.cleaned_data["applicant_email"],
                    applicant_name=form.cleaned_data["applicant_name"],
                    password=form.cleaned_data["password"])
                user = signatory.memberships.get().user
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Thank you. Your application has been sent to the Code "
                                        "staff, who will review it."))
            return redirect("company-dashboard", pk=signatory.pk)
    return render(request, "signatories/apply.html", {"form": form})


def public_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    page = _page(request, selectors.public_signatory_list(search))
    return render(request, "signatories/public_list.html", {"page": page, "q": search})


@login_required
def company_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    return _company_dashboard(request, selectors.signatory_get_for(request.user, pk))


def _company_dashboard(request: HttpRequest, signatory, failed: tuple[str, ReasonForm] | None
                       = None) -> HttpResponse:
    transitions = allowed_transitions(request.user, signatory)
    return render(request, "signatories/company_dashboard.html", {
        "signatory": signatory,
        "transitions": transitions,
        "transition_forms": transition_forms(transitions, failed),
        "can_edit": request.user.has_perm("signatories.edit_profile", signatory),
        "can_manage": request.user.has_perm("signatories.manage_members", signatory),
        "events": selectors.audit_events_for(request.user, signatory)[:10],
    }, status=400 if failed else 200)


@login_required
def company_profile(request: HttpRequest, pk: int) -> HttpResponse:
    signatory = selectors.signatory_get_for(request.user, pk)
    if not request.user.has_perm("signatories.edit_profile", signatory):
        raise PermissionDenied
    form = SignatoryProfileForm(request.POST or None, instance=signatory,
                                lock_country=not request.user.has_perm("signatories.approve",
                                                                       signatory))
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in form.changed_data}
        try:
            services.signatory_update_profile(signatory=signatory, actor=request.user, data=data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The profile has been saved."))
            return redirect("company-dashboard", pk=signatory.pk)
    return render(request, "signatories/company_profile.html",
                  {"signatory": signatory, "form": form})


@login_required
def company_sign(request: HttpRequest, pk: int) -> HttpResponse:
    signatory = selectors.signatory_get_for(request.user, pk)
    if not request.user.has_perm("signatories.sign", signatory):
        raise PermissionDenied
    if signatory.status != SignatoryStatus.APPROVED:
        messages.info(request, _("There is nothing to sign: the company is “%(status)s”.")
                      % {"status": signatory.get_status_display()})
        return redirect("company-dashboard", pk=signatory.pk)
    code_version = CodeVersion.objects.filter(is_current=True).first()
    form = SignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.signatory_sign(signatory=signatory, actor=request.user,
                                    signer_name=form.cleaned_data["signer_name"],
                                    signer_title=form.cleaned_data["signer_title"],
                                    code_version=code_version)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Thank you for signing The Code. Welcome!"))
            return redirect("company-dashboard", pk=signatory.pk)
    return render(request, "signatories/company_sign.html",
                  {"signatory": signatory, "form": form, "code_version": code_version})


@login_required
@require_POST
def signatory_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    signatory = selectors.signatory_get_for(request.user, pk)
    if name not in TRANSITIONS or name == "sign":
        raise Http404
    if not request.user.has_perm(f"signatories.{name}", signatory):
        raise PermissionDenied
    form = ReasonForm(request.POST)
    back = request.POST.get("next") or ""
    target = ("staff-signatory-detail" if request.user.is_code_staff and
              not back.startswith("/company/") else "company-dashboard")
    if form.is_valid():
        try:
            services.TRANSITION_SERVICES[name](signatory=signatory, actor=request.user,
                                               reason=form.cleaned_data["reason"])
        except DomainError as exc:
            if exc.field != "reason":  # e.g. the state changed meanwhile: nothing to correct
                messages.error(request, exc.message)
                return redirect(target, pk=signatory.pk)
            _form_error(form, exc)
    if form.errors:
        # The same page again with the error at the reason field and the typed text kept.
        if target == "company-dashboard":
            return _company_dashboard(request, signatory, failed=(name, form))
        return _staff_signatory_detail(request, signatory.pk, failed=(name, form))
    else:
        signatory.refresh_from_db()
        messages.success(request, _("Done: the signatory is now “%(status)s”.")
                         % {"status": signatory.get_status_display()})
    return redirect(target, pk=signatory.pk)


@login_required
def company_team(request: HttpRequest, pk: int) -> HttpResponse:
    signatory = selectors.signatory_get_for(request.user, pk)
    members = selectors.membership_list_for(request.user, signatory)
    can_manage = request.user.has_perm("signatories.manage_members", signatory)
    form = InvitationForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.invitation_create(signatory=signatory, actor=request.user,
                                           email=form.cleaned_data["email"],
                                           role=form.cleaned_data["role"])
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Invitation sent to %(email)s.")
                                 % {"email": form.cleaned_data["email"]})
                return redirect("company-team", pk=signatory.pk)
    return render(request, "signatories/company_team.html", {
        "signatory": signatory, "members": members, "form": form, "can_manage": can_manage,
        "invitations": (selectors.invitation_list_for(request.user, signatory)
                        if can_manage else []),
        "role_form": RoleForm(),
    })


@login_required
@require_POST
def membership_update(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    signatory = selectors.signatory_get_for(request.user, pk)
    membership = selectors.membership_get_for(request.user, signatory, membership_pk)
    action = request.POST.get("action")
    try:
        if action == "remove":
            leaving = membership.user_id == request.user.pk
            if request.POST.get("confirm") != "yes":
                # One more step: only a new invitation brings a removed member back.
                if not (leaving or request.user.has_perm("signatories.manage_members",
                                                         signatory)):
                    raise PermissionDenied
                return render(request, "signatories/membership_remove_confirm.html",
                              {"signatory": signatory, "membership": membership,
                               "leaving": leaving})
            services.membership_remove(membership=membership, actor=request.user)
            if leaving:
                messages.success(request, _("You have left %(company)s.")
                                 % {"company": signatory})
                return redirect("home")
            messages.success(request, _("The member has been removed."))
        else:
            form = RoleForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Choose a valid role."))
            else:
                services.membership_change_role(membership=membership, actor=request.user,
                                                role=form.cleaned_data["role"])
                messages.success(request, _("The role has been changed."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("company-team", pk=signatory.pk)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, pk: int, invitation_pk: int) -> HttpResponse:
    signatory = selectors.signatory_get_for(request.user, pk)
    invitation = selectors.invitation_get_for(request.user, signatory, invitation_pk)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)
        messages.success(request, _("The invitation has been withdrawn."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("company-team", pk=signatory.pk)


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_from_token(token)
    except DomainError as exc:
        return render(request, "signatories/invitation_invalid.html", {"error": exc.message},
                      status=410)
    from code_portal.models import User

    existing = User.objects.filter(email__iexact=invitation.email).first()
    form = None
    if request.user.is_authenticated:
        if request.method == "POST":
            try:
                membership = services.invitation_accept(token=token, user=request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Welcome to %(company)s.")
                                 % {"company": membership.signatory})
                return redirect("company-dashboard", pk=membership.signatory_id)
    elif existing is None:
        form = AcceptInvitationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            from django.db import transaction

            try:
                with transaction.atomic():
                    user = User.objects.create_user(email=invitation.email,
                                                    password=form.cleaned_data["password"],
                                                    full_name=form.cleaned_data["full_name"])
                    membership = services.invitation_accept(token=token, user=user)
            except DomainError as exc:
                _form_error(form, exc)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect("company-dashboard", pk=membership.signatory_id)
    return render(request, "signatories/invitation_accept.html",
                  {"invitation": invitation, "form": form, "existing": existing})


@login_required
def api_token(request: HttpRequest) -> HttpResponse:
    from rest_framework.authtoken.models import Token

    token = None
    if request.method == "POST":
        token = services.api_token_regenerate(user=request.user)
        messages.success(request, _("A new token was created. Copy it now: the old one no "
                                    "longer works."))
    has_token = token is not None or Token.objects.filter(user=request.user).exists()
    return render(request, "signatories/api_token.html",
                  {"token": token, "has_token": has_token})


# --- Code staff ----------------------------------------------------------------------------

def _staff_only(request: HttpRequest) -> None:
    if not request.user.has_perm("signatories.view_queue"):
        raise Http404


@login_required
def staff_queue(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    page = _page(request, selectors.application_queue_for(request.user))
    return render(request, "signatories/staff_queue.html", {"page": page})


@login_required
def staff_signatory_list(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    filterset = SignatoryFilter(request.GET or None,
                                queryset=selectors.signatory_list_for(request.user))
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "signatories/staff_list.html", {
        "filter": filterset, "page": _page(request, qs.order_by("legal_name", "id")),
        "query": query.urlencode(),
    })


@login_required
def staff_signatory_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _staff_signatory_detail(request, pk)


def _staff_signatory_detail(request: HttpRequest, pk: int,
                            failed: tuple[str, ReasonForm] | None = None) -> HttpResponse:
    """The dossier: everything about one signatory on one page, in a fixed number of queries."""
    _staff_only(request)
    dossier = selectors.signatory_dossier_for(request.user, pk)
    signatory = dossier.signatory
    note_form = StaffNoteForm(request.POST if request.method == "POST" and not failed else None)
    if request.method == "POST" and not failed and note_form.is_valid():
        try:
            services.staff_note_add(signatory=signatory, actor=request.user,
                                    text=note_form.cleaned_data["text"])
        except DomainError as exc:
            _form_error(note_form, exc)
        else:
            messages.success(request, _("Note added."))
            return redirect("staff-signatory-detail", pk=signatory.pk)
    transitions = allowed_transitions(request.user, signatory)
    return render(request, "signatories/staff_detail.html", {
        "signatory": signatory,
        "dossier": dossier,
        "transitions": transitions,
        "transition_forms": transition_forms(transitions, failed),
        "reason_required": REASON_REQUIRED,
        "members": dossier.users,
        "events": dossier.events,
        "notes": dossier.notes,
        "note_form": note_form,
        "statuses": SignatoryStatus,
        "today": timezone.localdate(),
    }, status=400 if failed else 200)


@login_required
def staff_signatory_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every audit event of a signatory, paginated (the dossier shows the latest)."""
    _staff_only(request)
    signatory = selectors.signatory_get_for(request.user, pk)
    if not request.user.has_perm("signatories.view_staff_notes", signatory):
        raise Http404
    return render(request, "signatories/dossier_history.html", {
        "signatory": signatory,
        "page": _page(request, selectors.audit_events_for(request.user, signatory), 50),
    })


@login_required
def staff_signatory_notes(request: HttpRequest, pk: int) -> HttpResponse:
    """Every internal staff note on a signatory, paginated (the dossier shows the latest)."""
    _staff_only(request)
    signatory = selectors.signatory_get_for(request.user, pk)
    if not request.user.has_perm("signatories.view_staff_notes", signatory):
        raise Http404
    return render(request, "signatories/dossier_notes.html", {
        "signatory": signatory,
        "page": _page(request, signatory.staff_notes.select_related("author"), 50),
    })
