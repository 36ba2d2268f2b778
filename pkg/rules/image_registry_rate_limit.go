package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// ImageRegistryRateLimit: stub, to be implemented.
var ImageRegistryRateLimit = Rule{
	ID:       "image.registry-rate-limit",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
