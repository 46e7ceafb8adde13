"""This team's datasources. UIDs are pinned: the same in every environment (see environments.yaml)."""
