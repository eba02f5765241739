"""The read API at /api/v1/: JSON for integrations, authorised by API tokens.

Built with django-ninja so the OpenAPI document (/api/v1/openapi.json) comes from the
endpoints' type hints. Every answer is read through the token rules of micboard.access.
"""
