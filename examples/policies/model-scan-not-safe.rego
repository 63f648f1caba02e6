# Cloudsmith EPM style: match a model whose security scan is not SAFE, or did not
# complete. Runs unchanged in Cloudsmith EPM and in modelgate (`policy.rego`), where
# `input.v0.model_security` summarises modelgate's own scan of the target.
package cloudsmith

import rego.v1

default match := false

match if count(reason) > 0

reason contains msg if {
	summary := input.v0.model_security.scan_summary
	summary != "SAFE"
	msg := sprintf("model security scan is %s, not SAFE", [summary])
}

reason contains msg if {
	availability := input.v0.model_security.availability
	availability != "COMPLETE"
	msg := sprintf("model security scan is %s: not every file was scanned", [availability])
}
