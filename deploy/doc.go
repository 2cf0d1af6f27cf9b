// Package deploy holds envwrap's deployment files: Kubernetes manifests
// (kubernetes/), ECS task definitions and the task role's policy (ecs/),
// and a Terraform module for the IAM role (terraform/). The package has no
// code of its own; its tests decode every file strictly into the shape the
// platform reads, check the envwrap manifests with the manifest package,
// and build the binary with the Dockerfile's own command and run its
// `envwrap check` on every manifest.
package deploy
