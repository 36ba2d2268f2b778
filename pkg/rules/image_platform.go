package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// ImagePlatform: stub, to be implemented.
var ImagePlatform = Rule{
	ID:       "image.platform",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
