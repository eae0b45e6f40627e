"""The bilingual certificate of a household that completed a training (one A4 page).

It names the household by case code and the number of its people trained: names are
personal data and stay in `ledger.people` (a household may write them in by hand)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from ledger.core.errors import LedgerRejected, conflict, not_found
from ledger.reports.pdf import render_html, render_pdf
from ledger.training.rules import TOPIC_NAMES, Training, certificate_number

TEMPLATE = "certificate.html"
NOT_COMPLETED = conflict(
    "training_not_completed",
    "This household has not completed the training: no certificate.",
    "case_code",
)
NOT_A_PARTICIPANT = not_found(
    "not_a_participant",
    "This household did not take part in the training: no certificate.",
    "case_code",
)


@dataclass(frozen=True, slots=True)
class CertificateView:
    number: str
    case_code: str
    people: int
    days_attended: int
    days: int
    title: str
    topics_en: str
    topics_km: str
    start_date: datetime.date
    end_date: datetime.date
    place: str
    province: str
    trainer: str
    award: str


def certificate(training: Training, case_code: str) -> CertificateView:
    """The certificate of `case_code`; refused unless it took part (404) and completed the
    training (409)."""
    participant = training.participant(case_code)
    if participant is None:
        raise LedgerRejected([NOT_A_PARTICIPANT])
    if not participant.completed:
        raise LedgerRejected([NOT_COMPLETED])
    return CertificateView(
        number=certificate_number(training.id, case_code),
        case_code=case_code,
        people=participant.people,
        days_attended=len(participant.days_attended),
        days=len(training.days),
        title=training.title,
        topics_en=" and ".join(TOPIC_NAMES[t][0] for t in training.topics),
        topics_km=" និង ".join(TOPIC_NAMES[t][1] for t in training.topics),
        start_date=training.start_date,
        end_date=training.end_date,
        place=training.place,
        province=training.province,
        trainer=training.trainer,
        award=training.award_code,
    )


def certificate_html(view: CertificateView) -> str:
    return render_html(TEMPLATE, {"c": view})


def render_certificate(view: CertificateView) -> bytes:
    return render_pdf(TEMPLATE, {"c": view})
