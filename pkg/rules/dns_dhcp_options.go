package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// DNSDHCPOptions: stub, to be implemented.
var DNSDHCPOptions = Rule{
	ID:       "dns.dhcp-options",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
