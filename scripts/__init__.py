"""The CLI, the devnet launcher, deployment, the demo, reconstruction and exits."""
