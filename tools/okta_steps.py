"""What the Okta org needs for a policy to work: derived from the policy, never written by hand.

A registration hook only judges what Okta sends it. Okta sends an attribute when the user profile
policy's enrollment form has an input for it; progressive profiling asks a person who signs in
only for the *required* inputs their profile lacks; a form input needs the attribute to be
read-write for the user; Okta never sends a password, nor any attribute marked sensitive.
"""

from __future__ import annotations

from dataclasses import dataclass

from okta_wire.models import RequestType
from policy.loader import AttributeRule, Policy

REGISTRATION, PROGRESSIVE = RequestType.REGISTRATION, RequestType.PROGRESSIVE
# Okta's default enrollment form: these three, each required and read-write for the user.
DEFAULT_FORM = {"email": "Email", "firstName": "First name", "lastName": "Last name"}
# Filled by Okta itself at sign-up (from the email), never a form input.
FILLED_BY_OKTA = frozenset({"login"})
# Okta never sends these to a registration hook, and a command can never set them.
NEVER_SENT = frozenset({"password"})
LABELS = {
    **DEFAULT_FORM,
    "employeeNumber": "Employee number",
    "mobilePhone": "Mobile phone",
    "primaryPhone": "Primary phone",
    "nickName": "Nickname",
    "displayName": "Display name",
    "department": "Department",
    "organization": "Organization",
    "title": "Title",
    "userType": "User type",
    "city": "City",
    "countryCode": "Country code",
    "zipCode": "Zip code",
}
RUN_THIS_HOOK = {
    (True, False): "When a new user is created",
    (False, True): "Both (with self-service registration Denied, only progressive profile runs)",
    (True, True): "Both",
}


@dataclass(frozen=True)
class FormInput:
    """One input of the user profile policy's enrollment form."""

    name: str
    label: str
    required: bool
    # Asked of a person who signs in and lacks it (progressive profiling): required inputs only.
    progressive: bool
    on_default_form: bool
    # Required by the policy only when a condition holds, which the form cannot know.
    conditional: bool = False


@dataclass(frozen=True)
class OktaSteps:
    source: str
    registration: bool  # the policy judges sign-ups
    progressive: bool  # and profile updates at sign-in
    inputs: tuple[FormInput, ...]
    read_write: tuple[str, ...]  # to make read-write in the Profile Editor
    set_on_allow: tuple[str, ...]  # set by the hook's answer: must exist in the Profile Editor
    never_sent: tuple[str, ...]  # named by a rule, never sent (or set) by Okta
    read: tuple[str, ...]  # every attribute the policy reads

    @property
    def run_this_hook(self) -> str:
        return RUN_THIS_HOOK[(self.registration or not self.progressive, self.progressive)]

    def lines(self, hook_name: str = "") -> list[str]:
        """The Admin Console steps, one a line, for this policy and the hook named."""
        hook = f'"{hook_name}"' if hook_name else "this hook"
        signup = self.registration or not self.progressive
        lines = [
            f"Okta set-up that {self.source} needs:",
            "  Security > User Profile Policies > the policy of your app > Enrollment:",
            f"    Self-service registration: {'Allowed' if signup else 'Denied'}",
            f"    Progressive profiling: {'Enabled' if self.progressive else 'not needed'}",
            f"    Inline hook: {hook}",
            f"    Run this hook: {self.run_this_hook}",
            "  Profile enrollment form inputs:",
        ]
        lines += [f"    {_input_line(i, signup)}" for i in self.inputs]
        if self.read_write:
            lines.append(
                "  Directory > Profile Editor > User (default): User permission Read-Write for: "
                + ", ".join(self.read_write)
            )
        if self.set_on_allow:
            lines.append(
                "  set by the hook on allow (each must exist in the Profile Editor): "
                + ", ".join(self.set_on_allow)
            )
        for name in self.never_sent:
            lines.append(
                f"  warning: a rule names {name}, which Okta never sends to the hook (nor lets it "
                "set): that rule can never see a value"
            )
        if self.read:
            lines.append(
                "  note: Okta leaves out of its requests any attribute marked Sensitive in the "
                f"Profile Editor, which a policy cannot know: none of {', '.join(self.read)} may be"
            )
        return lines


def okta_steps(policy: Policy) -> OktaSteps:
    rules = policy.attributes
    sources = [a.source for a in policy.assignments if a.source is not None]
    read = list(dict.fromkeys([*rules, *sorted(policy.updatable), *sources]))
    inputs = tuple(
        _form_input(name, rules.get(name), name in policy.updatable)
        for name in read
        if name not in FILLED_BY_OKTA | NEVER_SENT
    )
    progressive = bool(policy.updatable)
    registration = any(_always_required(r, REGISTRATION) for r in rules.values()) or bool(
        policy.assignments_for(REGISTRATION) or policy.directory_for(REGISTRATION)
    )
    # Values set on allow: [set], [derive], and those a directory rule copies from its record.
    targets = [a.target for a in policy.assignments]
    targets += [target for rule in policy.directory for target in rule.copies]
    return OktaSteps(
        source=policy.source,
        registration=registration,
        progressive=progressive,
        inputs=inputs,
        read_write=tuple(i.name for i in inputs if not i.on_default_form),
        set_on_allow=tuple(t for t in targets if t not in NEVER_SENT),
        never_sent=tuple(n for n in dict.fromkeys([*read, *targets]) if n in NEVER_SENT),
        read=tuple(n for n in read if n not in NEVER_SENT),
    )


def _always_required(rule: AttributeRule | None, request_type: RequestType) -> bool:
    """Whether every request of this type must carry the attribute. A requirement that holds only
    under a condition must answer False: the form cannot know the condition, so the input is
    optional there, and the hook judges the rest."""
    if rule is None or request_type not in rule.required:
        return False
    return rule.required_when is None and rule.when is None


def _form_input(name: str, rule: AttributeRule | None, updatable: bool) -> FormInput:
    on_progressive = updatable and _always_required(rule, PROGRESSIVE)
    return FormInput(
        name=name,
        label=LABELS.get(name, name),
        # Progressive profiling asks only for required inputs: one the policy requires there must
        # be required in the form, which makes it required at sign-up too.
        required=on_progressive or _always_required(rule, REGISTRATION),
        progressive=on_progressive,
        on_default_form=name in DEFAULT_FORM,
        conditional=rule is not None
        and bool(rule.required)
        and (rule.required_when is not None or rule.when is not None),
    )


def _input_line(form_input: FormInput, signup: bool) -> str:
    i = form_input
    where = "on Okta's default form" if i.on_default_form else "add it"
    asked = ["at sign-up"] if signup else []
    if i.progressive:
        asked.append("at sign-in of a person whose profile lacks it (progressive profiling)")
    when = "asked " + ", and ".join(asked) if asked else "never asked"
    if i.required:
        need = "Required"
    elif i.conditional:
        # Required in the form would ask everyone; the hook asks whom the condition names.
        need = "Optional (the policy requires it only when its condition holds)"
    else:
        need = "Optional (Required works too)"
    return f"{i.name} ({i.label}): {need}, {where}; {when}"
