"""A decision in Okta's registration inline hook response format."""

from __future__ import annotations

from typing import Any

from okta_wire.models import Decision, RequestType

ACTION = "com.okta.action.update"
PROFILE_UPDATE = "com.okta.user.profile.update"
PROGRESSIVE_UPDATE = "com.okta.user.progressive.profile.update"

# Which update command Okta accepts for each request type.
UPDATE_COMMAND = {
    RequestType.REGISTRATION: PROFILE_UPDATE,
    RequestType.PROGRESSIVE: PROGRESSIVE_UPDATE,
}


def okta_response(decision: Decision) -> dict[str, Any]:
    if not decision.allowed:
        return {
            "commands": [{"type": ACTION, "value": {"registration": "DENY"}}],
            "error": {
                "errorSummary": decision.summary,
                "errorCauses": [
                    {
                        "errorSummary": cause.message,
                        "reason": cause.reason,
                        "locationType": "body",
                        # The Sign-In Widget shows a message inline only under this prefix,
                        # for progressive requests too.
                        "location": f"data.userProfile.{cause.attribute}",
                        "domain": "end-user",
                    }
                    for cause in decision.causes
                ],
            },
        }
    commands: list[dict[str, Any]] = [{"type": ACTION, "value": {"registration": "ALLOW"}}]
    if decision.updates:
        commands.append(
            {"type": UPDATE_COMMAND[decision.request_type], "value": dict(decision.updates)}
        )
    return {"commands": commands}
