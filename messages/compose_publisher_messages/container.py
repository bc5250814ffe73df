"""The messages compose-publisher sends about a container repository of a compose.

The bodies mirror src/domain/message-schemas.ts of compose-publisher; its tests compare the two.
"""

from fedora_messaging import message

SCHEMA_URL = "http://fedoraproject.org/message-schema/compose_publisher"
_NAMES = {"type": "array", "items": {"type": "string"}}


def _decision_schema(word, description):
    return {
        "id": f"{SCHEMA_URL}/v1/compose_publisher.container.{word}",
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "description": description,
        "type": "object",
        "properties": {
            "compose_id": {"type": "string", "description": "The compose the run published from."},
            "release": {
                "type": "string",
                "description": "The release as published ('40'; Rawhide as its configured number).",
            },
            "repository": {"type": "string", "description": "The repository, e.g. 'fedora'."},
            "decision": {"type": "string", "const": word},
            "registries": dict(_NAMES, description="Each registry as configured (host/namespace)."),
            "tags": dict(_NAMES, description="The index tags, e.g. ['40', 'latest']."),
            "architectures": dict(
                _NAMES, description="OCI arch names of the index after this decision (amd64, arm64…)."
            ),
            "missing_architectures": dict(
                _NAMES, description="Arches the published index serves that this compose did not build."
            ),
            "dropped_architectures": dict(
                _NAMES, description="Arches an override removed from the index."
            ),
            "override": {
                "type": "object",
                "description": "The operator's (or the wait-end policy's) override.",
                "properties": {
                    "repository": {"type": "string"},
                    "mode": {"type": "string", "enum": ["hybrid", "publish-available", "skip"]},
                    "reason": {"type": "string"},
                    "operator": {"type": "string"},
                    "at": {"type": "string"},
                },
                "required": ["repository", "mode", "reason", "operator", "at"],
            },
            "newer_compose_id": {
                "type": "string",
                "description": "The newer compose that superseded this one.",
            },
        },
        "required": [
            "compose_id",
            "release",
            "repository",
            "decision",
            "registries",
            "tags",
            "architectures",
            "missing_architectures",
        ],
    }


class _ContainerMessage(message.Message):
    """Base class of compose-publisher's messages; never sent itself."""

    @property
    def app_name(self):
        return "compose-publisher"


class _ContainerDecision(_ContainerMessage):
    """A repository's decision in a compose-publisher run."""

    word = ""

    @property
    def containers(self):
        """Every <registry>/<repository>:<tag> the decision is about."""
        return [
            f"{registry}/{self.body['repository']}:{tag}"
            for registry in self.body["registries"]
            for tag in self.body["tags"]
        ]

    @property
    def summary(self):
        return (
            f"{self.app_name}: {self.body['repository']}:{', '.join(self.body['tags'])} "
            f"{self.word} from compose {self.body['compose_id']}"
        )

    def __str__(self):
        lines = [
            f"Decision of compose-publisher: {self.word}",
            "",
            f"\tCompose ID: {self.body['compose_id']}",
            f"\tRepository: {self.body['repository']}",
            f"\tRegistries: {', '.join(self.body['registries'])}",
            f"\tTags: {', '.join(self.body['tags'])}",
            f"\tArchitectures: {', '.join(self.body['architectures'])}",
        ]
        if self.body["missing_architectures"]:
            lines.append(f"\tMissing architectures: {', '.join(self.body['missing_architectures'])}")
        if self.body.get("dropped_architectures"):
            lines.append(f"\tDropped architectures: {', '.join(self.body['dropped_architectures'])}")
        if self.body.get("override"):
            override = self.body["override"]
            lines.append(
                f"\tOverride: {override['mode']} by {override['operator']}: {override['reason']}"
            )
        if self.body.get("newer_compose_id"):
            lines.append(f"\tSuperseded by: {self.body['newer_compose_id']}")
        return "\n".join(lines) + "\n"


class ContainerPublished(_ContainerDecision):
    """Every arch the index served is in this compose: the index now points at its images."""

    topic = "compose_publisher.container.published"
    word = "published"
    body_schema = _decision_schema(word, "An index published with every arch it served before.")


class ContainerBlocked(_ContainerDecision):
    """The compose lacks an arch the index serves: nothing moved; an operator can override."""

    topic = "compose_publisher.container.blocked"
    word = "blocked"
    severity = message.WARNING
    body_schema = _decision_schema(word, "An index left as it was: the compose lacks an arch it serves.")


class ContainerOverridden(_ContainerDecision):
    """An operator (or the wait-end policy) overrode a block; the index was published as the override says."""

    topic = "compose_publisher.container.overridden"
    word = "overridden"
    body_schema = _decision_schema(word, "An index published by an override of a block.")


class ContainerSuperseded(_ContainerDecision):
    """A newer compose is already published: this one changes nothing."""

    topic = "compose_publisher.container.superseded"
    word = "superseded"
    body_schema = _decision_schema(word, "An index left as it was: a newer compose is published.")


class ContainerSkipped(_ContainerDecision):
    """The repository was skipped (by an override, or the compose had no image for it)."""

    topic = "compose_publisher.container.skipped"
    word = "skipped"
    body_schema = _decision_schema(word, "An index left as it was: the repository was skipped.")


class ContainerStale(_ContainerMessage):
    """An arch of a published index lags the repository's newest compose past the warn_after threshold."""

    topic = "compose_publisher.container.stale"
    severity = message.WARNING
    body_schema = {
        "id": f"{SCHEMA_URL}/v1/compose_publisher.container.stale",
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "description": "An arch of a published index that lags the newest compose.",
        "type": "object",
        "properties": {
            "repository": {"type": "string"},
            "registry": {"type": "string", "description": "The registry as configured."},
            "tag": {"type": "string", "description": "The index tag, e.g. '40'."},
            "architecture": {"type": "string", "description": "OCI arch name, e.g. s390x."},
            "served_compose_id": {
                "type": ["string", "null"],
                "description": "The compose the index serves this arch from (null: unknown).",
            },
            "newest_compose_id": {
                "type": ["string", "null"],
                "description": "The newest compose of the release any arch was published from.",
            },
            "composes_behind": {"type": "integer"},
            "lag_days": {"type": "number"},
            "arch_tag_moved_on": {
                "type": "boolean",
                "description": "The arch tag holds a newer image than the index serves.",
            },
        },
        "required": [
            "repository",
            "registry",
            "tag",
            "architecture",
            "served_compose_id",
            "newest_compose_id",
            "composes_behind",
            "lag_days",
            "arch_tag_moved_on",
        ],
    }

    @property
    def containers(self):
        return [f"{self.body['registry']}/{self.body['repository']}:{self.body['tag']}"]

    @property
    def summary(self):
        return (
            f"{self.app_name}: {self.containers[0]} serves {self.body['architecture']} from "
            f"{self.body['served_compose_id'] or 'an unknown compose'}, "
            f"{self.body['composes_behind']} compose(s) behind"
        )

    def __str__(self):
        return (
            "An arch of a published container index is stale:\n\n"
            f"\tContainer: {self.containers[0]}\n"
            f"\tArchitecture: {self.body['architecture']}\n"
            f"\tServed from: {self.body['served_compose_id'] or 'unknown'}\n"
            f"\tNewest compose: {self.body['newest_compose_id'] or 'unknown'}\n"
            f"\tComposes behind: {self.body['composes_behind']}\n"
            f"\tLag: {self.body['lag_days']} days\n"
        )
