from typer.testing import CliRunner

from briefing_qa.cli import app

runner = CliRunner()


def test_every_command_has_help():
    import typer

    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    commands = typer.main.get_command(app).commands
    assert {"ingest", "serve", "ask"} <= set(commands)
    for cmd in commands:
        sub = runner.invoke(app, [cmd, "--help"])
        assert sub.exit_code == 0, (cmd, sub.output)


def test_missing_index_is_one_clear_line(tmp_path):
    result = runner.invoke(app, ["ask", "What is neglect?", "--index", str(tmp_path / "none")])
    assert result.exit_code == 3
    assert result.output.strip().startswith("error: no index at")
    assert len(result.output.strip().splitlines()) == 1


def test_bad_setting_names_the_key(tmp_path):
    result = runner.invoke(app, ["ask", "x", "--index", str(tmp_path)], env={"BRIEFING_QA_PORT": "high"})
    assert result.exit_code == 2
    assert "BRIEFING_QA_PORT" in result.output
