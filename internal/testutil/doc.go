// Package testutil holds helpers the readers' tests share: the
// real-world model files of ../shared/realworld (beside the repository
// root, never committed) with their reference case.json, the weight list
// of a parsed graph in the order those case files use, and the check that
// committed fixtures are what their writer produces.
package testutil
