# Cloudsmith EPM style: match any file whose extension belongs to a format that can
# carry code (pickle and friends), whatever its content. Runs unchanged in Cloudsmith
# EPM and in modelgate (`policy.rego`).
package cloudsmith

import rego.v1

default match := false

risky_extensions := {
	".h5", ".hdf5", ".pdparams", ".keras", ".bin", ".pkl", ".dat", ".pt", ".pth",
	".ckpt", ".npy", ".joblib", ".dill", ".pb", ".gguf", ".zip",
}

match if count(reason) > 0

reason contains msg if {
	some file in input.v0["package"].files
	lower(file.file_extension) in risky_extensions
	msg := sprintf("%s has a risky extension (%s)", [file.filename, file.file_extension])
}
