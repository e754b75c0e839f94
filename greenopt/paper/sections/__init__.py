"""The report's sections, one module each (in report order); what they share is in
:mod:`~greenopt.paper.sections.common` and :mod:`~greenopt.paper.sections.summary`."""

from greenopt.paper.sections.bandwidth import section_bandwidth
from greenopt.paper.sections.break_even import section_break_even
from greenopt.paper.sections.claims import section_claims
from greenopt.paper.sections.common import Section
from greenopt.paper.sections.default import section_default
from greenopt.paper.sections.domain import section_domain
from greenopt.paper.sections.forecast import section_forecast
from greenopt.paper.sections.generated import section_generated
from greenopt.paper.sections.time_vs_energy import section_time_vs_energy
from greenopt.paper.sections.tradeoff import section_tradeoff
from greenopt.paper.sections.windows import section_windows

#: Every section in report order: the claims (Section 7) read what the others leave in
#: ``ctx.facts``.
SECTIONS: tuple[Section, ...] = (
    section_domain,
    section_break_even,
    section_time_vs_energy,
    section_windows,
    section_default,
    section_generated,
    section_bandwidth,
    section_forecast,
    section_tradeoff,
    section_claims,
)

__all__ = ["SECTIONS", "Section"]
