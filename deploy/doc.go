// Package deploy holds no Go code: it is the home of aekit's deployment
// files (Dockerfile, a KServe ServingRuntime and InferenceService, a Triton
// model configuration; see README.md here), and its tests check that those
// files parse with the tools that will read them and agree with what aekit
// writes and serves.
package deploy
