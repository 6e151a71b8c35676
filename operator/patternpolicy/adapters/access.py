"""What the operator's own account may do, asked of the apiserver (SelfSubjectAccessReview).

Every authenticated user may create a SelfSubjectAccessReview (the `system:basic-user` role), so
the operator can learn what an administrator granted it before it tries, and say so instead of
failing with a 403 half-way through.
"""

from __future__ import annotations

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from patternpolicy.adapters.kube import TIMEOUT, KubeError, api_client, explain


def may_list(group: str, resource: str) -> bool:
    """Whether this account may list `resource` of `group` in every namespace (or, cluster-scoped, at all)."""
    review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
        resource_attributes=client.V1ResourceAttributes(verb="list", group=group, resource=resource)))
    try:
        answer = client.AuthorizationV1Api(api_client()).create_self_subject_access_review(
            review, _request_timeout=TIMEOUT)
    except ApiException as exc:
        raise KubeError(f"cannot ask whether the operator may list {resource}: {explain(exc)}") from exc
    return bool(answer.status and answer.status.allowed)
