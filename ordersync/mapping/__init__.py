"""Field mapping between Order Time and ShipStation: pure functions, no I/O, no Django.

- ``imports``: Order Time ship doc → ShipStation order dict, a rejection with every reason, or a hold.
- ``addresses``: ISO 3166 country and state checks and the optional normalisation of names.
- ``notices``: ShipStation label or fulfillment → Order Time ship notice; carrier names.
- ``payload``: canonical JSON and hash of a payload; JSON-safe round trip of an Order Time order.

The rules are ``shared/api/field-mapping.md``; each module's docstring lists the decisions it adds.
"""
