"""Training reads, scoped to the user: another company's data looks like missing data."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.http import Http404

from code_portal.models import User
from signatories.selectors import signatory_get_for, signatory_scope_q
from training.models import (
    Course,
    Headcount,
    ImportJob,
    SessionAttachment,
    Trainee,
    TrainingRecord,
    TrainingSession,
)


def _scoped(model, user: User) -> QuerySet:
    scope = signatory_scope_q(user)
    # the scope is written against Signatory; re-root it on the relation
    from signatories.models import Signatory

    ids = Signatory.objects.filter(scope).values("pk")
    return model.objects.filter(signatory__in=ids)


def training_signatory_for(user: User, signatory_pk: int | str):
    signatory = signatory_get_for(user, signatory_pk)
    if not user.has_perm("training.view", signatory):
        raise Http404
    return signatory


def course_list_for(user: User, signatory=None) -> QuerySet[Course]:
    """The catalogue plus the courses of companies the user may see (or of one company)."""
    if signatory is not None:
        return Course.objects.filter(Q(signatory__isnull=True) | Q(signatory=signatory))
    from signatories.models import Signatory

    ids = Signatory.objects.filter(signatory_scope_q(user)).values("pk")
    return Course.objects.filter(Q(signatory__isnull=True) | Q(signatory__in=ids))


def course_get_for(user: User, pk: int | str) -> Course:
    try:
        return course_list_for(user).get(pk=int(pk))
    except (Course.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def session_list_for(user: User) -> QuerySet[TrainingSession]:
    return _scoped(TrainingSession, user).select_related("course", "signatory")


def session_get_for(user: User, pk: int | str) -> TrainingSession:
    try:
        return session_list_for(user).get(pk=int(pk))
    except (TrainingSession.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def attachment_get_for(user: User, pk: int | str) -> SessionAttachment:
    try:
        return SessionAttachment.objects.select_related("session__signatory").get(
            pk=int(pk), session__in=session_list_for(user).values("pk"))
    except (SessionAttachment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def record_list_for(user: User) -> QuerySet[TrainingRecord]:
    return _scoped(TrainingRecord, user).select_related("trainee", "course", "signatory")


def record_get_for(user: User, pk: int | str) -> TrainingRecord:
    try:
        return record_list_for(user).get(pk=int(pk))
    except (TrainingRecord.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def trainee_list_for(user: User) -> QuerySet[Trainee]:
    return _scoped(Trainee, user)


def trainee_get_for(user: User, pk: int | str) -> Trainee:
    try:
        return trainee_list_for(user).select_related("signatory").get(pk=int(pk))
    except (Trainee.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def headcount_list_for(user: User) -> QuerySet[Headcount]:
    return _scoped(Headcount, user)


def import_list_for(user: User) -> QuerySet[ImportJob]:
    return _scoped(ImportJob, user).select_related("uploaded_by")


def import_get_for(user: User, pk: int | str) -> ImportJob:
    try:
        return import_list_for(user).get(pk=int(pk))
    except (ImportJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# Signatories whose training is followed: from approval on, while they are (or were) members.
COVERAGE_STATUSES = ("approved", "active", "reporting_overdue", "suspended")


def coverage_list_for(user: User, as_of: date) -> QuerySet:
    """Signatories the user may see, each annotated with its coverage on ``as_of`` (one query)."""
    from signatories.selectors import signatory_list_for
    from training.coverage import annotate_coverage

    signatories = (signatory_list_for(user).filter(status__in=COVERAGE_STATUSES)
                   .select_related(None)
                   .only("id", "legal_name", "trading_name", "type", "country", "status",
                         "membership_number"))
    return annotate_coverage(signatories, as_of).order_by("legal_name", "id")
