"""The default questionnaire on the six criteria (reporting year 2025, version 1)."""

from django.db import migrations

YES_NO = "yes_no"

SECTIONS = [
    (1, "Policy", "A policy and procedures against the sexual exploitation of children.", [
        ("policy-written", YES_NO, "Does your company have a written policy against the sexual "
         "exploitation of children?", True, None, None, ""),
        ("policy-document", "file", "Attach the policy.", True, "policy-written", "yes", ""),
        ("policy-adopted-on", "date", "When was the policy adopted or last updated?", False,
         "policy-written", "yes", ""),
        ("policy-procedure", "long_text", "Describe the procedure staff follow when they suspect "
         "a child is at risk.", True, None, None, ""),
    ]),
    (2, "Training", "Training employees in children's rights, prevention and reporting.", [
        ("training-cf-trained", "number", "How many customer-facing employees were trained this "
         "year?", True, None, None, "training.customer_facing_trained"),
        ("training-cf-share", "percentage", "What share of your customer-facing employees have "
         "valid training?", False, None, None, "training.customer_facing_share"),
        ("training-methods", "multiple", "How was the training delivered?", True, None, None, ""),
        ("training-evidence", "file", "Attach training material or attendance evidence.", False,
         None, None, ""),
    ]),
    (3, "Contracts", "The zero-tolerance clause through the value chain.", [
        ("contracts-clause", YES_NO, "Do your supplier contracts include the Code clause?", True,
         None, None, ""),
        ("contracts-clause-share", "percentage", "What share of your hotel contracts include the "
         "Code clause?", True, "contracts-clause", "yes", "partners.clause_share"),
        ("contracts-clause-text", "file", "Attach the clause text.", False, "contracts-clause",
         "yes", ""),
    ]),
    (4, "Travellers", "Information to travellers.", [
        ("travellers-info", YES_NO, "Do you inform travellers about children's rights and how to "
         "report suspected cases?", True, None, None, ""),
        ("travellers-channels", "multiple", "Through which channels?", True, "travellers-info",
         "yes", ""),
        ("travellers-material", "file", "Attach an example of the material.", False,
         "travellers-info", "yes", ""),
    ]),
    (5, "Stakeholders", "Engaging stakeholders in prevention.", [
        ("stakeholders-activities", "long_text", "Which activities with stakeholders did you "
         "support or take part in this year?", True, None, None, ""),
        ("stakeholders-count", "number", "With how many organisations did you collaborate?",
         False, None, None, ""),
    ]),
    (6, "Reporting", "Reporting annually on Code-related activities.", [
        ("reporting-public", YES_NO, "Do you publish information on your Code activities?", True,
         None, None, ""),
        ("reporting-url", "short_text", "Where (web address)?", False, "reporting-public", "yes",
         ""),
        ("reporting-next-steps", "long_text", "What are your priorities for next year?", True,
         None, None, ""),
    ]),
]

CHOICES = {
    "training-methods": [("elearning", "E-learning"), ("classroom", "Classroom"),
                         ("webinar", "Webinar"), ("on_the_job", "On the job")],
    "travellers-channels": [("website", "Website"), ("brochure", "Brochures"),
                            ("in_destination", "In destination"), ("booking", "Booking documents"),
                            ("social", "Social media")],
}


def create(apps, schema_editor):
    Questionnaire = apps.get_model("reporting", "Questionnaire")
    Section = apps.get_model("reporting", "Section")
    Question = apps.get_model("reporting", "Question")
    if Questionnaire.objects.filter(year=2025, version=1).exists():
        return
    questionnaire = Questionnaire.objects.create(year=2025, version=1, is_published=True,
                                                 title="Annual report on The Code")
    for criterion, title, intro, questions in SECTIONS:
        section = Section.objects.create(questionnaire=questionnaire, criterion=criterion,
                                         title=title, intro=intro, order=criterion)
        by_code = {}
        for order, (code, qtype, text, required, parent, value, prefill) in enumerate(questions):
            by_code[code] = Question.objects.create(
                section=section, code=code, type=qtype, text=text, required=required,
                choices=[{"value": v, "label": label} for v, label in CHOICES.get(code, [])],
                show_if_question=by_code.get(parent) if parent else None,
                show_if_value=value or "", prefill=prefill, order=order,
                allows_evidence=qtype == "file")


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
