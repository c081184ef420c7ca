"""Why: what goes with dissatisfaction, and which experiences come before customers and revenue leave.

- :func:`driver_frame`: one row per answer with its candidate drivers (contacts by kind in the days
  before it, repeat contacts, cost, plan, region, tenure, CSAT, effort), or with ``relation="patterns"`` its
  distinct rows with the answers of each (``answer_count``), which the fits below read alike.
- :class:`KeyDrivers`: relative importance of the drivers for the score or for being a detractor
  (Johnson's relative weights, or general dominance as the cross-check), with bootstrap intervals.
- :class:`TouchpointImpact`: NPS with and without an experience, and the NPS points lost to it.
- :class:`ExperienceHazards`: time-varying Cox model of churn on recent complaints and repeat contacts,
  lagged, and the revenue that left with them.
- :class:`DepartureStory`: the last answers and contacts of those who left, by churn reason.

All of them measure association in observational data, not cause.

Examples
--------
>>> from cxkit.drivers import KeyDrivers, ExperienceHazards, driver_frame
>>> KeyDrivers(outcome="detractor").method
'relative_weights'
"""

from cxkit.drivers.departures import DepartureStory
from cxkit.drivers.frame import driver_frame
from cxkit.drivers.hazards import ExperienceHazards
from cxkit.drivers.key_drivers import KeyDrivers
from cxkit.drivers.touchpoints import TouchpointImpact

__all__ = ["driver_frame", "KeyDrivers", "TouchpointImpact", "ExperienceHazards", "DepartureStory"]
