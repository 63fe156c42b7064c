"""The version of the pricing rules that the stored price periods are built with.

Bump PRICE_RULES_VERSION whenever a rule that feeds the stored periods (services.price_timeline)
changes what it gives: the regulation (regulated_price, regulation days), the daily equivalent or
the annual amount, the price category, or above-visitation. The periods remember the version they
were built with; on the next read after a deploy with another version they are rebuilt in full, so
Overblik, Kvartalsrapport and Priskategorier follow the new rule. Forgetting the bump leaves them
on the old rule until some index rate or category set changes or the year turns.

A change that cannot alter a stored price (wording, refactoring, rules the periods do not use,
such as invoice deviation) needs no bump.
"""

PRICE_RULES_VERSION = 1
