package event

// ImageRef is a parsed container image reference.
type ImageRef struct {
	Raw        string `json:"raw"`
	Registry   string `json:"registry"`   // host, "docker.io" when omitted
	Repository string `json:"repository"` // path inside the registry
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest,omitempty"`
	// Set for private ECR (ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]).
	ECRAccount string `json:"ecrAccount,omitempty"`
	ECRRegion  string `json:"ecrRegion,omitempty"`
}

// IsECR reports whether the image lives in a private ECR registry.
func (r ImageRef) IsECR() bool { return r.ECRAccount != "" }
