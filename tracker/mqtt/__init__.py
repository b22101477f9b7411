"""MQTT for Home Assistant and friends: topics, payloads and discovery (:mod:`.messages`, pure),
the ``[mqtt]`` settings (:mod:`.settings`), and the bridge that publishes (:mod:`.bridge`)."""
