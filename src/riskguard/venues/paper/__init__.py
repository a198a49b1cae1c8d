"""The paper venue: a simulated exchange, the default venue of `riskguard run`.

`prices` moves a seeded random walk per instrument, `matching` fills orders against it
(synchronously, time passed in), `venue` puts both behind the `VenueAdapter` contract with a
price loop, and `faults` holds the failures it can be told to inject.
"""

from __future__ import annotations

from riskguard.venues.paper.faults import Faults
from riskguard.venues.paper.matching import MatchingSimulator, PaperAccount, Placed
from riskguard.venues.paper.prices import PriceWalk
from riskguard.venues.paper.venue import PaperConfig, PaperVenue

__all__ = ["Faults", "MatchingSimulator", "PaperAccount", "PaperConfig", "PaperVenue", "Placed", "PriceWalk"]
