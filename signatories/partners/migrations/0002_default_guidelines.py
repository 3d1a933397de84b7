"""The default guidelines partners confirm (version 2025-1), in English, French and Swedish."""

import datetime

from django.db import migrations

TEXTS = {
    "en": ("Guidelines for partners of signatories of The Code",
           "As a partner of a signatory of The Code of Conduct for the Protection of Children "
           "from Sexual Exploitation in Travel and Tourism, we confirm that:\n\n"
           "1. We have zero tolerance of the sexual exploitation of children. Our contract with "
           "the signatory includes a clause stating this common repudiation.\n"
           "2. We do not allow our premises, services or vehicles to be used for the sexual "
           "exploitation of children.\n"
           "3. Our staff know how to recognise signs of the exploitation of children and how to "
           "report a suspected case to the police and to the signatory.\n"
           "4. We report suspected cases of the sexual exploitation of children to the "
           "competent authorities without delay.\n"
           "5. We inform our own suppliers of these guidelines."),
    "fr": ("Lignes directrices pour les partenaires des signataires du Code",
           "En tant que partenaire d'un signataire du Code de conduite pour la protection des "
           "enfants contre l'exploitation sexuelle dans le voyage et le tourisme, nous "
           "confirmons que :\n\n"
           "1. Nous appliquons une tolérance zéro envers l'exploitation sexuelle des enfants. "
           "Notre contrat avec le signataire comporte une clause qui l'énonce.\n"
           "2. Nous ne permettons pas que nos locaux, services ou véhicules servent à "
           "l'exploitation sexuelle des enfants.\n"
           "3. Notre personnel sait reconnaître les signes d'exploitation et signaler un cas "
           "suspect à la police et au signataire.\n"
           "4. Nous signalons sans délai tout cas suspect aux autorités compétentes.\n"
           "5. Nous informons nos propres fournisseurs de ces lignes directrices."),
    "sv": ("Riktlinjer för partner till undertecknare av The Code",
           "Som partner till en undertecknare av uppförandekoden för skydd av barn mot sexuell "
           "exploatering inom rese- och turistnäringen bekräftar vi att:\n\n"
           "1. Vi har nolltolerans mot sexuell exploatering av barn. Vårt avtal med "
           "undertecknaren innehåller en klausul om detta.\n"
           "2. Vi låter inte våra lokaler, tjänster eller fordon användas för sexuell "
           "exploatering av barn.\n"
           "3. Vår personal vet hur man känner igen tecken på exploatering och hur man "
           "anmäler ett misstänkt fall till polisen och till undertecknaren.\n"
           "4. Vi anmäler misstänkta fall till behöriga myndigheter utan dröjsmål.\n"
           "5. Vi informerar våra egna leverantörer om dessa riktlinjer."),
}


def install(apps, schema_editor):
    Version = apps.get_model("partners", "GuidelinesVersion")
    Text = apps.get_model("partners", "GuidelinesText")
    if Version.objects.filter(version="2025-1").exists():
        return
    version = Version.objects.create(version="2025-1", title=TEXTS["en"][0],
                                     published_on=datetime.date(2025, 1, 1), is_current=True)
    Text.objects.bulk_create([Text(version=version, language=lang, title=title, text=text)
                              for lang, (title, text) in TEXTS.items()])


def remove(apps, schema_editor):
    apps.get_model("partners", "GuidelinesVersion").objects.filter(version="2025-1").delete()


class Migration(migrations.Migration):
    dependencies = [("partners", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
