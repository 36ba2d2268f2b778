package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// ImageRegistryAuth: stub, to be implemented.
var ImageRegistryAuth = Rule{
	ID:       "image.registry-auth",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
