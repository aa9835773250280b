"""The project's set-up files agree with each other."""

import re
import tomllib

import yaml

# pip name -> conda-forge name, where they differ
PIP_TO_CONDA = {"lazrs": "lazrs-python", "open3d-cpu": "open3d", "libusb-package": "libusb",
                "matplotlib": "matplotlib-base"}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_names_the_same_packages_as_pyproject(repo):
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    pip_names = {_name(r) for r in project["dependencies"]}
    for reqs in project["optional-dependencies"].values():
        pip_names |= {_name(r) for r in reqs}
    expected = {PIP_TO_CONDA.get(n, n) for n in pip_names}

    env = yaml.safe_load((repo / "environment.yml").read_text())
    conda, pip_section = set(), set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_section |= {_name(r) for r in dep["pip"]}
        else:
            conda.add(_name(dep))
    conda -= {"python", "pip"}
    assert conda | pip_section == expected, (
        f"only in environment.yml: {sorted((conda | pip_section) - expected)}; "
        f"only in pyproject.toml: {sorted(expected - (conda | pip_section))}"
    )


def test_all_extra_is_the_union_of_the_others(repo):
    extras = tomllib.loads((repo / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    # dev and docs are tools for developers, not parts of geo3d a user runs
    union = {r for k, v in extras.items() if k not in ("all", "dev", "docs") for r in v}
    assert set(extras["all"]) == union


def test_ci_runs_the_readme_test_command(repo):
    ci = (repo / ".ci" / "run").read_text()
    assert "make test" in ci
    readme = (repo / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme


def test_version_matches(repo):
    import geo3d

    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    assert geo3d.__version__ == project["version"]


def test_everyday_entry_points_resolve():
    import geo3d

    for name in geo3d.__all__:
        assert getattr(geo3d, name) is not None, name
