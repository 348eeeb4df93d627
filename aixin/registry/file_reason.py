"""The reason to open a child's full file (R-12.5): staff who do not own the case (see
`selectors.owns_child`) say why before the file shows. The reason is kept in the session for that
child for `REASON_HOURS` and goes into the details of every VIEW audit event it covers."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

REASON_HOURS = 8
SESSION_KEY = "aixin_file_reasons"
OTHER = "其他"
REASON_CHOICES = (
    ("核查数据", _("核查数据")),
    ("督导检查", _("督导检查")),
    ("个案处置", _("个案处置")),
    (OTHER, _("其他（请说明）")),
)
MAX_REASON_LENGTH = 200


class FileReasonForm(forms.Form):
    choice = forms.ChoiceField(label=_("查看原因"), choices=REASON_CHOICES, widget=forms.RadioSelect)
    text = forms.CharField(label=_("说明"), max_length=MAX_REASON_LENGTH, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("choice") == OTHER and not (data.get("text") or "").strip():
            self.add_error("text", _("选择“其他”时请写明查看原因"))
        return data

    def reason(self) -> str:
        choice = self.cleaned_data["choice"]
        text = (self.cleaned_data.get("text") or "").strip()
        return "：".join(x for x in (choice, text) if x)


def clean_reason(raw: str | None) -> str:
    """A reason given in an API query parameter, trimmed; empty when none was given."""
    return (raw or "").strip()[:MAX_REASON_LENGTH]


def _current(entry: Any, now: datetime.datetime) -> str:
    if not isinstance(entry, dict):
        return ""
    try:
        given = datetime.datetime.fromisoformat(str(entry.get("at")))
    except ValueError:
        return ""
    if now - given > datetime.timedelta(hours=REASON_HOURS):
        return ""
    return str(entry.get("reason") or "")


def reason_for(request: HttpRequest, child_pk: int) -> str:
    """The reason given in this session for the child's file, if given within REASON_HOURS."""
    return _current(request.session.get(SESSION_KEY, {}).get(str(child_pk)), timezone.now())


def remember_reason(request: HttpRequest, child_pk: int, reason: str) -> None:
    """Keep the reason for the child; expired reasons are dropped so the session stays small."""
    now = timezone.now()
    reasons = {k: v for k, v in request.session.get(SESSION_KEY, {}).items() if _current(v, now)}
    reasons[str(child_pk)] = {"reason": reason, "at": now.isoformat()}
    request.session[SESSION_KEY] = reasons


def reason_page(request: HttpRequest, child: Any, *, back_url: str) -> HttpResponse:
    """The 查看原因 form before a page of the child's full file that the user does not own (the
    child file, the task-force page): a valid reason is kept in the session for the child and
    the user goes on to `back_url`, which then shows (and audits the view with the reason)."""
    form = FileReasonForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        remember_reason(request, child.pk, form.reason())
        return redirect(back_url)
    status = 400 if form.is_bound else 200
    return render(request, "registry/child_reason.html", {"child": child, "form": form}, status=status)
