#!/usr/bin/env python3
"""Write the demo PDFs shipped in o2s_esign/demo/ (run again only to change them).

The files are committed; this script documents how they were made (reportlab, which Odoo
already requires).
"""
import os
import sys

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "o2s_esign", "demo")

DOCUMENTS = {
    "lettre_de_mission.pdf": (
        "Lettre de mission",
        [
            "Entre le cabinet O2S Conseil Patrimonial, ci-après « le conseiller », et le client "
            "désigné ci-dessous, ci-après « le client ».",
            "<b>Article 1 – Objet de la mission.</b> Le conseiller accompagne le client dans "
            "l'analyse de sa situation patrimoniale, la définition de ses objectifs et la "
            "sélection de solutions d'investissement adaptées à son profil.",
            "<b>Article 2 – Obligations du conseiller.</b> Le conseiller agit avec loyauté et "
            "compétence, dans le meilleur intérêt du client, et l'informe de tout conflit "
            "d'intérêts éventuel.",
            "<b>Article 3 – Rémunération.</b> La mission donne lieu à des honoraires forfaitaires "
            "de 1 200 € TTC, payables à la remise du rapport de mission.",
            "<b>Article 4 – Durée.</b> La présente lettre prend effet à sa signature pour une "
            "durée d'un an, renouvelable par tacite reconduction.",
            "Fait pour servir et valoir ce que de droit. Les parties reconnaissent la valeur "
            "probante de la signature électronique apposée sur ce document.",
        ],
    ),
    "profil_investisseur.pdf": (
        "Profil investisseur",
        [
            "Ce questionnaire permet d'évaluer vos connaissances, votre expérience, votre "
            "situation financière et votre tolérance au risque, conformément à la directive "
            "MIF II.",
            "<b>Horizon de placement :</b> 8 ans et plus.",
            "<b>Objectif principal :</b> valorisation du capital à long terme.",
            "<b>Expérience :</b> détention d'OPCVM et de contrats d'assurance-vie en unités de "
            "compte depuis plus de 5 ans.",
            "<b>Capacité à subir des pertes :</b> jusqu'à 20 % du capital investi.",
            "<b>Profil retenu :</b> équilibré.",
            "Je certifie l'exactitude des informations communiquées ci-dessus.",
        ],
    ),
}


def build(path, title, paragraphs):
    styles = getSampleStyleSheet()
    story = [Paragraph(title, styles["Title"]), Spacer(1, 0.6 * cm)]
    for text in paragraphs:
        story.append(Paragraph(text, styles["BodyText"]))
        story.append(Spacer(1, 0.3 * cm))
    doc = SimpleDocTemplate(path, pagesize=A4, title=title, author="O2S Conseil Patrimonial",
                            invariant=1)
    doc.build(story)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (title, paragraphs) in DOCUMENTS.items():
        build(os.path.join(OUT, name), title, paragraphs)
        print("wrote", os.path.join(OUT, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
