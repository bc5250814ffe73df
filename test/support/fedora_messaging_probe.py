"""What Fedora's consumers and publishers do with fedora-messaging, for the tests (run in .tools/messaging-venv).

  probe.py schemas            prints {schema name: {class, severity, body_schema}} of the registry
  probe.py read < deliveries  parses each delivery with fedora_messaging.message.get_message, as consumers do
  probe.py publish TOPIC      publishes stdin's JSON body as Pungi does, with fedora_messaging.api.publish
                              (FEDORA_MESSAGING_CONF names the config: amqp_url, topic_prefix, publish_exchange)
"""

import json
import logging
import sys

import pika
from fedora_messaging import api, message


class _Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())


def schemas():
    message.load_message_classes()
    print(
        json.dumps(
            {
                name: {
                    "class": f"{cls.__module__}.{cls.__qualname__}",
                    "severity": cls.severity,
                    "body_schema": cls.body_schema,
                    "package": message._schema_name_to_package.get(name),
                }
                for name, cls in message._schema_name_to_class.items()
            }
        )
    )


def read():
    warnings = _Warnings()
    logging.getLogger("fedora_messaging").addHandler(warnings)
    results = []
    for delivery in json.load(sys.stdin):
        warnings.records.clear()
        props = delivery["properties"]
        properties = pika.BasicProperties(
            content_type=props.get("content_type"),
            content_encoding=props.get("content_encoding"),
            delivery_mode=props.get("delivery_mode"),
            headers=props.get("headers"),
            message_id=props.get("message_id"),
        )
        try:
            parsed = message.get_message(delivery["routing_key"], properties, delivery["body"].encode("utf-8"))
        except message.ValidationError as error:
            results.append({"valid": False, "error": str(error), "warnings": list(warnings.records)})
            continue
        cls = type(parsed)
        results.append(
            {
                "valid": True,
                "class": f"{cls.__module__}.{cls.__qualname__}",
                "topic": parsed.topic,
                "id": parsed.id,
                "severity": parsed.severity,
                "app_name": parsed.app_name,
                "summary": parsed.summary,
                "text": str(parsed),
                "containers": parsed.containers,
                # The headers fedora-messaging itself would write for this message (minus sent-at).
                "expected_headers": {k: v for k, v in message.Message._filter_headers(parsed).items()},
                "warnings": list(warnings.records),
            }
        )
    print(json.dumps(results))


def publish(topic):
    body = json.load(sys.stdin)
    api.publish(api.Message(topic=topic, body=body), timeout=30)


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "schemas":
        schemas()
    elif command == "read":
        read()
    elif command == "publish":
        publish(sys.argv[2])
    else:
        sys.exit(f"unknown command {command}")
