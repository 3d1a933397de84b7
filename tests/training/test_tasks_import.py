"""The import task: what an upload ends up recording, progress, e-mail, and that running the
same job again (a re-delivered task, a worker that died half way) never records anything twice.

Most tests run the task eagerly; the last ones run it on a real Celery worker through the
configured broker (marked ``celery_worker``).
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date, timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_postrun
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from code_portal.celery import app
from code_portal.errors import DomainError
from code_portal.models import AuditEvent
from training import services
from training.importers import running, validation
from training.models import ImportJob, ImportStatus, Trainee, TrainingRecord
from training.tasks import run_import

from .completion_files import completion_rows, csv_bytes, upload, xlsx_bytes
from .factories import CourseFactory, RecordFactory, TraineeFactory

TODAY = timezone.localdate()
DAY = TODAY - timedelta(days=10)


@pytest.fixture
def course(db):
    return CourseFactory(title="Code e-learning", validity_months=24)


@pytest.fixture
def run_upload(django_capture_on_commit_callbacks):
    """Upload a file as a user would, and let the (eager) task run after the commit."""

    def _run(user, signatory, data: bytes, *, name="completions.csv", valid_rows=False):
        with django_capture_on_commit_callbacks(execute=True):
            job = services.import_create(actor=user, signatory=signatory, upload=upload(data, name),
                                         import_valid_rows=valid_rows)
        job.refresh_from_db()
        return job

    return _run


def _rerun(job: ImportJob, django_capture_on_commit_callbacks, *, as_if_interrupted=True):
    if as_if_interrupted:  # what a worker that died leaves behind
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, finished_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = run_import.delay(job.pk).get()
    job.refresh_from_db()
    return outcome


def test_clean_file_records_people_and_completions_with_their_expiry(reporter, company_a, course,
                                                                     run_upload):
    job = run_upload(reporter, company_a, csv_bytes([
        ["E1", "Åsa Öberg", "Front desk", "yes", "Code e-learning", "2024-02-29"],
        ["", "Bo Ek", "Sales", "no", str(course.pk), DAY],
    ]))

    assert (job.status, job.total_rows, job.processed_rows, job.created_records) == (
        ImportStatus.DONE, 2, 2, 2)
    assert job.errors == [] and job.finished_at is not None
    asa = Trainee.objects.get(signatory=company_a, staff_reference="E1")
    assert (asa.name, asa.department, asa.is_customer_facing) == ("Åsa Öberg", "Front desk", True)
    record = TrainingRecord.objects.get(trainee=asa)
    assert (record.completed_on, record.expires_on) == (date(2024, 2, 29), date(2026, 2, 28))
    assert (record.import_job_id, record.created_by_id, record.signatory_id) == (
        job.pk, reporter.pk, company_a.pk)
    assert record.history.get().history_type == "+"  # bulk insert still leaves a history
    assert TrainingRecord.objects.get(trainee__name="Bo Ek").course_id == course.pk
    event = AuditEvent.objects.get(action="training_import.done")
    assert event.changes["created_records"] == {"to": 2} and event.actor == reporter


def test_file_with_an_error_imports_nothing_and_lists_the_line(reporter, company_a, course,
                                                               run_upload):
    job = run_upload(reporter, company_a, csv_bytes([
        ["E1", "Ann", "Sales", "yes", "Code e-learning", DAY],
        ["E2", "Bo", "Sales", "yes", "Code e-learning", TODAY + timedelta(days=3)],
        ["E3", "Cy", "Sales", "yes", "Unknown course", DAY],
    ]))

    assert job.status == ImportStatus.INVALID
    assert [e["line"] for e in job.errors] == [3, 4]
    assert "in the future" in job.errors[0]["errors"][0]
    assert job.created_records == 0
    assert not TrainingRecord.objects.exists() and not Trainee.objects.exists()


def test_import_valid_rows_option_records_the_good_rows_and_lists_the_bad(reporter, company_a,
                                                                          course, run_upload):
    job = run_upload(reporter, company_a, xlsx_bytes([
        ["E1", "Ann", "Sales", "yes", "Code e-learning", DAY],
        ["E2", "Bo", "Sales", "perhaps", "Code e-learning", DAY],
    ]), name="completions.xlsx", valid_rows=True)

    assert (job.status, job.created_records, job.total_rows) == (ImportStatus.DONE, 1, 2)
    assert job.errors == [{"line": 3, "errors": [
        "Write yes or no in customer_facing (found “perhaps”)."]}]
    assert list(TrainingRecord.objects.values_list("trainee__staff_reference", flat=True)) == ["E1"]


def test_after_seeing_the_errors_the_user_imports_the_valid_rows_of_the_same_file(
        reporter, company_a, course, run_upload, django_capture_on_commit_callbacks):
    job = run_upload(reporter, company_a, csv_bytes([
        ["E1", "Ann", "Sales", "yes", "Code e-learning", DAY],
        ["E2", "Bo", "Sales", "yes", "Unknown course", DAY],
        ["E3", "Cy", "Desk", "no", "Code e-learning", DAY],
    ]))
    assert (job.status, job.created_records) == (ImportStatus.INVALID, 0)
    assert services.import_valid_row_count(job) == 2

    with django_capture_on_commit_callbacks(execute=True):
        services.import_accept_valid_rows(actor=reporter, job=job)
    job.refresh_from_db()

    assert (job.status, job.import_valid_rows, job.created_records) == (ImportStatus.DONE, True, 2)
    assert [e["line"] for e in job.errors] == [3]  # the bad row is still listed
    assert sorted(TrainingRecord.objects.values_list("trainee__staff_reference", flat=True)) == [
        "E1", "E3"]
    assert AuditEvent.objects.filter(action="training_import.valid_rows_accepted",
                                     actor=reporter).count() == 1
    assert len(mail.outbox) == 2  # "nothing imported", then "done"
    with pytest.raises(DomainError):  # a finished import is not run a second time
        services.import_accept_valid_rows(actor=reporter, job=job)
    assert TrainingRecord.objects.count() == 2


def test_valid_rows_are_offered_only_for_a_file_with_some_valid_and_some_bad_rows(
        reporter, viewer, company_a, course, run_upload):
    only_bad = run_upload(reporter, company_a, csv_bytes([
        ["E1", "Ann", "Sales", "yes", "Unknown course", DAY]]))
    mixed = run_upload(reporter, company_a, csv_bytes([
        ["E1", "Ann", "Sales", "yes", "Code e-learning", DAY],
        ["E2", "Bo", "Sales", "yes", "Unknown course", DAY]]))

    assert services.import_valid_row_count(only_bad) == 0
    with pytest.raises(DomainError):
        services.import_accept_valid_rows(actor=reporter, job=only_bad)
    with pytest.raises(PermissionDenied):
        services.import_accept_valid_rows(actor=viewer, job=mixed)
    mixed.file.delete(save=False)  # e.g. removed by an erasure
    with pytest.raises(DomainError):
        services.import_accept_valid_rows(actor=reporter, job=mixed)
    assert not TrainingRecord.objects.exists()
    assert set(ImportJob.objects.values_list("status", flat=True)) == {ImportStatus.INVALID}


def test_erasure_deletes_the_stored_files_of_finished_imports_that_may_name_the_person(
        company_admin, reporter, company_a, course, run_upload,
        django_capture_on_commit_callbacks):
    done = run_upload(reporter, company_a, csv_bytes([
        ["E1", "Åsa Öberg", "Front desk", "yes", "Code e-learning", DAY]]))
    pending = ImportJob.objects.create(signatory=company_a, uploaded_by=reporter,
                                       original_name="next.csv")
    pending.file.save("next.csv", upload(csv_bytes([["E1", "Åsa Öberg", "Desk", "yes",
                                                     "Code e-learning", DAY]])))
    storage, stored = done.file.storage, done.file.name
    assert storage.exists(stored)

    with django_capture_on_commit_callbacks(execute=True):
        services.trainee_erase(actor=company_admin,
                               trainee=Trainee.objects.get(staff_reference="E1"))

    done.refresh_from_db()
    pending.refresh_from_db()
    assert not done.file and not storage.exists(stored)
    assert (done.status, done.created_records, done.original_name) == (
        ImportStatus.DONE, 1, "completions.csv")  # the outcome stays
    assert pending.file and storage.exists(pending.file.name)  # still to be imported
    assert TrainingRecord.objects.filter(signatory=company_a).count() == 1  # totals kept


def test_completion_already_on_record_is_reported_and_not_recorded_twice(reporter, company_a,
                                                                         course, run_upload):
    RecordFactory(trainee=TraineeFactory(signatory=company_a, staff_reference="E1"),
                  course=course, completed_on=DAY)

    job = run_upload(reporter, company_a, csv_bytes([
        ["E1", "Ann", "Sales", "yes", "Code e-learning", DAY],
        ["E2", "Bo", "Sales", "yes", "Code e-learning", DAY]]), valid_rows=True)

    assert job.errors == [{"line": 2, "errors": ["This completion is already recorded."]}]
    assert job.created_records == 1
    assert TrainingRecord.objects.count() == 2


def test_completion_recorded_meanwhile_is_skipped_not_duplicated(reporter, company_a, course,
                                                                 run_upload, monkeypatch):
    # Someone records E1 by hand after the file was checked and before its rows are written.
    def check_then_someone_records_e1(result, **kwargs):
        services.record_create(actor=reporter, signatory=company_a, course=course,
                               completed_on=DAY, staff_reference="E1")
        return result

    monkeypatch.setattr(validation, "mark_already_recorded", check_then_someone_records_e1)

    job = run_upload(reporter, company_a, csv_bytes(
        [["E1", "Ann", "Sales", "yes", "Code e-learning", DAY],
         ["E2", "Bo", "Sales", "yes", "Code e-learning", DAY]]))

    assert (job.status, job.created_records, job.skipped_duplicates) == (ImportStatus.DONE, 1, 1)
    assert TrainingRecord.objects.filter(trainee__staff_reference="E1").count() == 1


def test_running_a_finished_job_again_does_nothing(reporter, company_a, course, run_upload,
                                                   django_capture_on_commit_callbacks):
    job = run_upload(reporter, company_a, csv_bytes(completion_rows(5, course="Code e-learning",
                                                                    completed_on=DAY)))
    mail.outbox.clear()

    outcome = _rerun(job, django_capture_on_commit_callbacks, as_if_interrupted=False)

    assert outcome == {"job": job.pk, "status": "skipped"}
    assert TrainingRecord.objects.count() == 5 and Trainee.objects.count() == 5
    assert mail.outbox == []
    assert AuditEvent.objects.filter(action="training_import.done").count() == 1


def test_running_a_job_again_after_its_worker_died_creates_nothing_new(
        reporter, company_a, course, run_upload, django_capture_on_commit_callbacks):
    job = run_upload(reporter, company_a, csv_bytes(
        completion_rows(6, course="Code e-learning", completed_on=DAY)
        + [["", "No Reference", "Desk", "no", "Code e-learning", DAY]]))

    _rerun(job, django_capture_on_commit_callbacks)

    assert (job.status, job.created_records, job.skipped_duplicates) == (ImportStatus.DONE, 7, 0)
    assert TrainingRecord.objects.count() == 7
    assert Trainee.objects.count() == 7  # the person without a reference too
    assert job.errors == []  # its own records are not "already recorded"


def test_job_interrupted_half_way_is_finished_by_the_next_run(reporter, company_a, course,
                                                              run_upload, monkeypatch,
                                                              django_capture_on_commit_callbacks):
    monkeypatch.setattr(running, "BATCH_SIZE", 4)
    real_write = running._write_batch
    calls = []

    def dies_on_the_second_batch(job, rows, processed):
        calls.append(len(rows))
        if len(calls) == 2:
            raise SystemExit("worker killed")  # not an Exception: the task cannot clean up
        real_write(job, rows, processed)

    monkeypatch.setattr(running, "_write_batch", dies_on_the_second_batch)
    with pytest.raises(SystemExit):
        run_upload(reporter, company_a, csv_bytes(completion_rows(10, course="Code e-learning",
                                                                  completed_on=DAY)))
    job = ImportJob.objects.get()
    assert (job.status, job.processed_rows, TrainingRecord.objects.count()) == (
        ImportStatus.RUNNING, 4, 4)

    _rerun(job, django_capture_on_commit_callbacks, as_if_interrupted=False)

    assert calls == [4, 4, 4, 2]  # the second run writes only the 6 rows the first did not
    assert (job.status, job.created_records, job.processed_rows) == (ImportStatus.DONE, 10, 10)
    assert TrainingRecord.objects.count() == 10 and Trainee.objects.count() == 10
    assert TrainingRecord.history.model.objects.count() == 10


def test_half_done_job_is_finished_even_if_a_row_was_recorded_by_hand_meanwhile(
        reporter, company_a, course, run_upload, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(running, "BATCH_SIZE", 2)
    real_write = running._write_batch

    def dies_after_the_first_batch(job, rows, processed):
        if ImportJob.objects.get(pk=job.pk).processed_rows:
            raise SystemExit("worker killed")
        real_write(job, rows, processed)

    monkeypatch.setattr(running, "_write_batch", dies_after_the_first_batch)
    with pytest.raises(SystemExit):
        run_upload(reporter, company_a, csv_bytes(completion_rows(4, course="Code e-learning",
                                                                  completed_on=DAY)))
    monkeypatch.setattr(running, "_write_batch", real_write)
    services.record_create(actor=reporter, signatory=company_a, course=course, completed_on=DAY,
                           staff_reference="E000003")
    job = ImportJob.objects.get()

    _rerun(job, django_capture_on_commit_callbacks, as_if_interrupted=False)

    assert (job.status, job.created_records) == (ImportStatus.DONE, 3)
    assert job.errors == [{"line": 5, "errors": ["This completion is already recorded."]}]
    assert TrainingRecord.objects.count() == 4


def test_progress_is_saved_after_every_batch(reporter, company_a, course, run_upload,
                                             monkeypatch):
    monkeypatch.setattr(running, "BATCH_SIZE", 3)
    seen = []
    real_write = running._write_batch

    def spy(job, rows, processed):
        real_write(job, rows, processed)
        seen.append(ImportJob.objects.values_list("processed_rows", "total_rows").get(pk=job.pk))

    monkeypatch.setattr(running, "_write_batch", spy)
    rows = completion_rows(8, course="Code e-learning", completed_on=DAY)
    rows.insert(2, ["", "", "", "", "", "x"])  # one bad row, counted as processed at once

    job = run_upload(reporter, company_a, csv_bytes(rows), valid_rows=True)

    assert seen == [(4, 9), (7, 9), (9, 9)]
    assert job.progress_percent == 100


def test_task_reports_progress_in_its_celery_state(reporter, company_a, course, monkeypatch,
                                                   django_capture_on_commit_callbacks):
    monkeypatch.setattr(running, "BATCH_SIZE", 2)
    job = ImportJob.objects.create(
        signatory=company_a, uploaded_by=reporter, original_name="c.csv",
        file=upload(csv_bytes(completion_rows(5, course="Code e-learning", completed_on=DAY)),
                    "c.csv"))
    states = []
    monkeypatch.setattr(run_import, "update_state",
                        lambda state, meta: states.append((state, meta["current"],
                                                           meta["total"])))
    run_import.push_request(id="task-1", is_eager=False, retries=0)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run_import.run(job.pk)
    finally:
        run_import.pop_request()

    assert states == [("PROGRESS", 0, 5), ("PROGRESS", 2, 5), ("PROGRESS", 4, 5),
                      ("PROGRESS", 5, 5)]


def test_people_without_reference_are_not_duplicated_across_batches(reporter, company_a, course,
                                                                    run_upload, monkeypatch):
    monkeypatch.setattr(running, "BATCH_SIZE", 2)
    CourseFactory(title="Refresher")
    rows = [["", "Kim Lee", "Sales", "no", "Code e-learning", DAY - timedelta(days=d)]
            for d in range(4)]
    rows.append(["", "Kim Lee", "Marketing", "yes", "Refresher", DAY])

    job = run_upload(reporter, company_a, csv_bytes(rows))

    kim = Trainee.objects.get()
    assert job.created_records == 5
    # the last line about a person has the final say, as when records are added one by one
    assert (kim.department, kim.is_customer_facing) == ("Marketing", True)


def test_existing_person_is_updated_not_duplicated(reporter, company_a, course, run_upload):
    person = TraineeFactory(signatory=company_a, staff_reference="E1", name="Ann Old",
                            department="Sales", is_customer_facing=False)

    run_upload(reporter, company_a, csv_bytes(
        [["E1", "Ann New", "Front desk", "yes", "Code e-learning", DAY]]))

    person.refresh_from_db()
    assert Trainee.objects.count() == 1
    assert (person.name, person.department, person.is_customer_facing) == (
        "Ann New", "Front desk", True)


def test_uploader_is_emailed_when_the_import_is_done(reporter, company_a, course, run_upload):
    job = run_upload(reporter, company_a, csv_bytes(
        completion_rows(3, course="Code e-learning", completed_on=DAY)
        + [["E9", "Bad", "", "no", "Nope", DAY]]), valid_rows=True)

    [message] = mail.outbox
    assert message.to == [reporter.email]
    assert message.subject == "Training import finished: completions.csv"
    assert "3 completions were recorded" in message.body
    assert "1 row had errors and was not imported" in message.body
    assert f"/company/{company_a.pk}/training/import/{job.pk}/" in message.body
    html = message.alternatives[0][0]
    assert "3 completions were recorded" in html


def test_uploader_is_emailed_when_nothing_was_imported(reporter, company_a, course, run_upload):
    run_upload(reporter, company_a, csv_bytes([["E9", "Bad", "", "no", "Nope", DAY]]))

    [message] = mail.outbox
    assert message.subject == "Training import not done, the file has errors: completions.csv"
    assert "1 row has errors." in message.body


def test_crash_marks_the_job_failed_and_tells_the_uploader(reporter, company_a, course,
                                                           monkeypatch,
                                                           django_capture_on_commit_callbacks):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(running, "_write_batch", broken)
    job = services.import_create(actor=reporter, signatory=company_a, upload=upload(csv_bytes(
        completion_rows(2, course="Code e-learning", completed_on=DAY))))

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        run_import.delay(job.pk)

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "unexpected error" in job.errors[0]["errors"][0] and job.errors[0]["line"] is None
    assert mail.outbox[0].subject == "Training import failed: completions.csv"


def test_import_that_runs_out_of_time_is_marked_failed_with_advice(
        reporter, company_a, course, monkeypatch, django_capture_on_commit_callbacks):
    def too_slow(*args, **kwargs):
        raise SoftTimeLimitExceeded

    monkeypatch.setattr(running, "_write_batch", too_slow)
    job = services.import_create(actor=reporter, signatory=company_a, upload=upload(csv_bytes(
        completion_rows(2, course="Code e-learning", completed_on=DAY))))

    with django_capture_on_commit_callbacks(execute=True):
        outcome = run_import.delay(job.pk).get()

    job.refresh_from_db()
    assert outcome["status"] == job.status == ImportStatus.FAILED
    assert "took too long" in job.errors[0]["errors"][0]


def test_database_hiccup_is_retried_and_the_import_completes(reporter, company_a, course,
                                                             monkeypatch,
                                                             django_capture_on_commit_callbacks):
    real_write = running._write_batch
    failures = [OperationalError("server closed the connection unexpectedly")]

    def flaky(*args, **kwargs):
        if failures:
            raise failures.pop()
        real_write(*args, **kwargs)

    monkeypatch.setattr(running, "_write_batch", flaky)
    # an eager task that propagates errors would hand the Retry to the caller instead of
    # running the retry, as a worker does
    monkeypatch.setattr(app.conf, "task_eager_propagates", False)
    job = services.import_create(actor=reporter, signatory=company_a, upload=upload(csv_bytes(
        completion_rows(3, course="Code e-learning", completed_on=DAY))))

    with django_capture_on_commit_callbacks(execute=True):
        run_import.delay(job.pk)

    job.refresh_from_db()
    assert (job.status, job.created_records) == (ImportStatus.DONE, 3)
    assert len(mail.outbox) == 1


def test_ten_thousand_rows_go_through_the_task_in_bounded_queries(reporter, company_a, course,
                                                                  django_capture_on_commit_callbacks):
    rows = completion_rows(10_000, course="Code e-learning", completed_on=DAY)
    job = services.import_create(actor=reporter, signatory=company_a,
                                 upload=upload(csv_bytes(rows)))

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries, \
            django_capture_on_commit_callbacks(execute=True):
        run_import.delay(job.pk)
    elapsed = time.perf_counter() - started

    job.refresh_from_db()
    assert (job.status, job.created_records, job.processed_rows) == (
        ImportStatus.DONE, 10_000, 10_000)
    assert Trainee.objects.filter(signatory=company_a).count() == 10_000
    # batches, not rows: ~10 queries per 1,000 rows on PostgreSQL; SQLite splits each insert
    # into statements of under 999 parameters, still far fewer queries than rows
    limit = 150 if connection.vendor == "postgresql" else 500
    assert len(queries) <= limit, f"{len(queries)} queries for 10,000 rows"
    assert elapsed < 120


# --- On a real worker ------------------------------------------------------------------------------

# Without DATABASE_URL the test database is SQLite in memory, shared by this thread and the
# worker's with table-level locks and no busy timeout: a read or write that meets the other
# thread's lock fails at once ("database table is locked") and is simply tried again.

def _wait_for(condition, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OperationalError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _as_if_the_worker_was_lost(job: ImportJob) -> None:
    def reset() -> bool:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, finished_at=None)
        return True

    _wait_for(reset, "the job row")


@pytest.fixture
def worker(settings):
    """A real worker thread consuming a queue of its own on the configured broker."""
    queue = f"test-import-{uuid.uuid4().hex}"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    saved = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    ran_in: list[int] = []

    def after_task(**kwargs):
        ran_in.append(threading.get_ident())
        connections.close_all()  # the worker thread's connection must not outlive the test

    task_postrun.connect(after_task, weak=False)
    try:
        with start_worker(app, pool="solo", concurrency=1, queues=[queue],
                          perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
            yield ran_in
    finally:
        task_postrun.disconnect(after_task)
        app.conf.task_always_eager, app.conf.task_default_queue = saved
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)


@pytest.mark.celery_worker
# serialized_rollback: a transactional test that runs after one with serialized_rollback (the
# browser tests) otherwise starts with an empty content-type table, which the audit rows need
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_imports_the_file_and_a_redelivered_task_creates_nothing(worker, reporter,
                                                                         company_a):
    CourseFactory(title="Code e-learning")
    rows = completion_rows(1500, course="Code e-learning", completed_on=DAY)
    rows.append(["", "No Reference", "Desk", "no", "Code e-learning", DAY])
    job = services.import_create(actor=reporter, signatory=company_a,
                                 upload=upload(csv_bytes(rows)))

    def finished() -> bool:
        return ImportJob.objects.filter(pk=job.pk, status=ImportStatus.DONE).exists()

    _wait_for(finished, "the import")
    _wait_for(lambda: len(mail.outbox) == 1, "the e-mail to the uploader")
    assert worker and threading.get_ident() not in worker  # it ran in the worker's thread
    assert TrainingRecord.objects.count() == 1501

    # The same task delivered again, as after a worker was lost before acknowledging it.
    _wait_for(lambda: len(worker) >= 2, "the worker to be idle")
    _as_if_the_worker_was_lost(job)
    run_import.delay(job.pk)
    _wait_for(finished, "the re-run")
    # and once more for a job that is finished: it exits quietly
    run_import.delay(job.pk)
    _wait_for(lambda: len(worker) >= 5, "both re-runs")  # 2 imports, 2 e-mails, 1 no-op

    job.refresh_from_db()
    assert (job.created_records, job.skipped_duplicates) == (1501, 0)
    assert TrainingRecord.objects.count() == 1501
    assert Trainee.objects.count() == 1501
    assert TrainingRecord.history.model.objects.count() == 1501
