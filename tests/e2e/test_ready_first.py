"""`hearth run` with the language model on is ready, and hears a command, before the model's
tool prompt has been read: the prompt is read behind the first turn, never in front of it, and
so are the fixed replies synthesised ahead."""

from __future__ import annotations

from pathlib import Path

from broker import Broker, Recorder
from daemon import Daemon
from hearth_cli import write_config
from speech import utterance


def test_ready_comes_before_the_tool_prompt_and_a_command_is_acted_on(
    broker: Broker, recorder: Recorder, tmp_path: Path
) -> None:
    config = write_config(tmp_path, broker.port, node_id="readyfirst")
    text = config.read_text().replace("[llm]\nenabled = false\n", "[llm]\nenabled = true\n")
    assert "enabled = true" in text
    config.write_text(text.replace("[assistant]\n", f'[assistant]\ndata_dir = "{tmp_path}"\n', 1))
    daemon = Daemon(config)
    try:
        ready = daemon.wait_line("ready in", timeout_s=180)
        daemon.say(utterance(0.3, "Hey Jarvis.", 0.3, "Turn on the kitchen light.", 1.5))
        prompt = daemon.wait_line("tool prompt read in", timeout_s=180)
        assert ready < prompt
        # then the fixed replies for two lights and a switch (on and off) are made ahead
        kept = daemon.wait_line("fixed replies synthesised ahead", timeout_s=120)
        made = int(daemon.lines[kept].split("daemon: ")[1].split()[0])
        assert prompt < kept and made in (5, 6)  # 5 when the turn's own reply was given first
        assert recorder.wait_for("zigbee2mqtt/kitchen_light/set", timeout_s=60)
        assert daemon.stop() == 0
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
