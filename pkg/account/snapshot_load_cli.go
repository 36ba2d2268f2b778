package account

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// The shapes the AWS CLI prints, besides the ones the snapshot stores. A
// person builds a snapshot by pasting command output; whatever arrives in
// the command's own shape is read as the field's, and anything else of the
// wrong shape is an error that names the shape expected. Nothing is dropped
// silently: a wrapper whose keys a section ignored would read as "none exist".

// cliOutput is the output of the command that answers a snapshot list: the
// list is under key (for one, key holds a single object). For nested, each
// element of that list holds the real list under nested (describe-instances'
// Reservations[].Instances[]).
type cliOutput struct {
	command, key, nested string
	one                  bool
}

// cliOutputs: AWS CLI Command Reference, the Output section of each command.
// Both CLI versions print the same keys; they differ only in how timestamps
// are written, which normTime reads either way.
var cliOutputs = map[reflect.Type]cliOutput{
	reflect.TypeFor[[]ecstypes.Cluster]():              {command: "aws ecs describe-clusters", key: "clusters"},
	reflect.TypeFor[[]ecstypes.Service]():              {command: "aws ecs describe-services", key: "services"},
	reflect.TypeFor[[]ecstypes.Task]():                 {command: "aws ecs describe-tasks", key: "tasks"},
	reflect.TypeFor[[]ecstypes.TaskDefinition]():       {command: "aws ecs describe-task-definition", key: "taskDefinition", one: true},
	reflect.TypeFor[[]ecstypes.ContainerInstance]():    {command: "aws ecs describe-container-instances", key: "containerInstances"},
	reflect.TypeFor[[]ec2types.Vpc]():                  {command: "aws ec2 describe-vpcs", key: "Vpcs"},
	reflect.TypeFor[[]ec2types.Subnet]():               {command: "aws ec2 describe-subnets", key: "Subnets"},
	reflect.TypeFor[[]ec2types.RouteTable]():           {command: "aws ec2 describe-route-tables", key: "RouteTables"},
	reflect.TypeFor[[]ec2types.InternetGateway]():      {command: "aws ec2 describe-internet-gateways", key: "InternetGateways"},
	reflect.TypeFor[[]ec2types.NatGateway]():           {command: "aws ec2 describe-nat-gateways", key: "NatGateways"},
	reflect.TypeFor[[]ec2types.VpcEndpoint]():          {command: "aws ec2 describe-vpc-endpoints", key: "VpcEndpoints"},
	reflect.TypeFor[[]ec2types.SecurityGroup]():        {command: "aws ec2 describe-security-groups", key: "SecurityGroups"},
	reflect.TypeFor[[]ec2types.NetworkAcl]():           {command: "aws ec2 describe-network-acls", key: "NetworkAcls"},
	reflect.TypeFor[[]ec2types.DhcpOptions]():          {command: "aws ec2 describe-dhcp-options", key: "DhcpOptions"},
	reflect.TypeFor[[]ec2types.NetworkInterface]():     {command: "aws ec2 describe-network-interfaces", key: "NetworkInterfaces"},
	reflect.TypeFor[[]ec2types.PrefixList]():           {command: "aws ec2 describe-prefix-lists", key: "PrefixLists"},
	reflect.TypeFor[[]ec2types.Instance]():             {command: "aws ec2 describe-instances", key: "Reservations", nested: "Instances"},
	reflect.TypeFor[[]ecrtypes.Repository]():           {command: "aws ecr describe-repositories", key: "repositories"},
	reflect.TypeFor[[]ecrtypes.ImageDetail]():          {command: "aws ecr describe-images", key: "imageDetails"},
	reflect.TypeFor[[]ecrtypes.Image]():                {command: "aws ecr batch-get-image", key: "images"},
	reflect.TypeFor[[]ecrtypes.PullThroughCacheRule](): {command: "aws ecr describe-pull-through-cache-rules", key: "pullThroughCacheRules"},
	reflect.TypeFor[[]smtypes.SecretListEntry]():       {command: "aws secretsmanager list-secrets", key: "SecretList"},
	reflect.TypeFor[[]ssmtypes.ParameterMetadata]():    {command: "aws ssm describe-parameters", key: "Parameters"},
}

// field returns the value under key, matched case-insensitively as every
// snapshot key is.
func field(obj map[string]any, key string) (k string, v any, ok bool) {
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if strings.EqualFold(k, key) {
			return k, obj[k], true
		}
	}
	return "", nil, false
}

// elements returns the list elements a command's whole output holds, each
// with its path, or ok false when v is not that output.
func (o cliOutput) elements(v any, p *jsonPath) (elems []any, paths []*jsonPath, ok bool, err *SnapshotError) {
	obj, isObj := v.(map[string]any)
	if !isObj {
		return nil, nil, false, nil
	}
	k, inner, found := field(obj, o.key)
	if !found {
		return nil, nil, false, nil
	}
	kp := &jsonPath{parent: p, key: k}
	if o.one {
		if _, isObj := inner.(map[string]any); !isObj && inner != nil {
			return nil, nil, true, kp.errorf("expected object (the %q of `%s`), got %s", o.key, o.command, describe(inner))
		}
		return []any{inner}, []*jsonPath{kp}, true, nil
	}
	list, isList := inner.([]any)
	if !isList && inner != nil {
		return nil, nil, true, kp.errorf("expected array (the %q list of `%s`), got %s", o.key, o.command, describe(inner))
	}
	for i, e := range list {
		ep := &jsonPath{parent: kp, index: i}
		if o.nested == "" {
			elems, paths = append(elems, e), append(paths, ep)
			continue
		}
		sub := cliOutput{command: o.command, key: o.nested}
		more, morePaths, ok, err := sub.elements(e, ep)
		if err != nil {
			return nil, nil, true, err
		}
		if !ok {
			return nil, nil, true, ep.errorf("expected object with %q (an element of %q in `%s`), got %s", o.nested, o.key, o.command, describe(e))
		}
		elems, paths = append(elems, more...), append(paths, morePaths...)
	}
	return elems, paths, true, nil
}

// expected names the shape a list of t accepts, for an error.
func (o cliOutput) expected(t reflect.Type) string {
	what := "array"
	if t.Elem().Kind() == reflect.Struct {
		what = "an array of " + t.Elem().Name()
	}
	switch {
	case o.command == "":
		return what
	case o.one:
		return fmt.Sprintf("%s, or the whole output of `%s` ({%q: {...}})", what, o.command, o.key)
	}
	return fmt.Sprintf("%s, or the whole output of `%s` ({%q: [...]})", what, o.command, o.key)
}

// listElements returns the elements of a snapshot list with their paths:
// an array, whose elements may be whole command outputs themselves (several
// outputs pasted in a row), or one command's whole output.
func listElements(v any, t reflect.Type, p *jsonPath) ([]any, []*jsonPath, *SnapshotError) {
	o := cliOutputs[t]
	if o.command != "" {
		if elems, paths, ok, err := o.elements(v, p); ok || err != nil {
			return elems, paths, err
		}
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, nil, p.errorf("expected %s, got %s", o.expected(t), describe(v))
	}
	var elems []any
	var paths []*jsonPath
	for i, e := range arr {
		ep := &jsonPath{parent: p, index: i}
		if o.command != "" {
			more, morePaths, ok, err := o.elements(e, ep)
			if err != nil {
				return nil, nil, err
			}
			if ok {
				elems, paths = append(elems, more...), append(paths, morePaths...)
				continue
			}
		}
		elems, paths = append(elems, e), append(paths, ep)
	}
	return elems, paths, nil
}

var vpcAttributesType = reflect.TypeFor[map[string]VPCAttributes]()

// vpcAttributeNames are the attributes VPCAttributes keeps, by lowercased name.
var vpcAttributeNames = map[string]string{"enablednssupport": "EnableDnsSupport", "enablednshostnames": "EnableDnsHostnames"}

// normVPCAttributes reads ec2.vpcAttributes. Per VPC ID it takes the
// attributes as booleans, or what `aws ec2 describe-vpc-attribute` prints
// ({"VpcId": ..., "EnableDnsSupport": {"Value": true}}: one attribute per
// call, AWS CLI Command Reference, describe-vpc-attribute), merged into one
// object or as an array of outputs. The whole section may also be an array
// of such outputs, each naming its VPC.
func normVPCAttributes(v any, p *jsonPath) (any, *SnapshotError) {
	out := map[string]any{}
	switch v := v.(type) {
	case map[string]any:
		for _, vpc := range slices.Sorted(maps.Keys(v)) {
			ep := &jsonPath{parent: p, key: vpc}
			entries, isList := v[vpc].([]any)
			if !isList {
				entries = []any{v[vpc]}
			}
			for i, e := range entries {
				at := ep
				if isList {
					at = &jsonPath{parent: ep, index: i}
				}
				if err := addVPCAttributes(out, vpc, e, at); err != nil {
					return nil, err
				}
			}
		}
	case []any:
		for i, e := range v {
			if err := addVPCAttributes(out, "", e, &jsonPath{parent: p, index: i}); err != nil {
				return nil, err
			}
		}
	default:
		return nil, p.errorf("expected object (VPC ID to attributes) or an array of `aws ec2 describe-vpc-attribute` outputs, got %s", describe(v))
	}
	return out, nil
}

// addVPCAttributes merges one entry into out; vpc is "" when the entry must name its VPC.
func addVPCAttributes(out map[string]any, vpc string, e any, p *jsonPath) *SnapshotError {
	if e == nil {
		e = map[string]any{}
	}
	obj, ok := e.(map[string]any)
	if !ok {
		return p.errorf("expected object ({\"EnableDnsSupport\": true} or the output of `aws ec2 describe-vpc-attribute`), got %s", describe(e))
	}
	if k, id, ok := field(obj, "VpcId"); ok {
		s, isStr := id.(string)
		switch {
		case !isStr || s == "":
			return (&jsonPath{parent: p, key: k}).errorf("expected a VPC ID, got %s", describe(id))
		case vpc != "" && s != vpc:
			return (&jsonPath{parent: p, key: k}).errorf("%q is not the VPC of its key %q", s, vpc)
		}
		vpc = s
	}
	if vpc == "" {
		return p.errorf("no VpcId: each entry of an array must be a `aws ec2 describe-vpc-attribute` output, which names its VPC")
	}
	attrs, _ := out[vpc].(map[string]any)
	if attrs == nil {
		attrs = map[string]any{}
		out[vpc] = attrs
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		name, known := vpcAttributeNames[strings.ToLower(k)]
		if !known {
			continue // VpcId, and attributes pullmedic does not judge
		}
		ap := &jsonPath{parent: p, key: k}
		val := obj[k]
		if wrapped, isObj := val.(map[string]any); isObj {
			_, val, _ = field(wrapped, "Value")
		}
		b, isBool := val.(bool)
		if !isBool {
			if obj[k] == nil {
				continue
			}
			return ap.errorf("expected boolean or {\"Value\": boolean} (as `aws ec2 describe-vpc-attribute` prints it), got %s", describe(obj[k]))
		}
		if prev, set := attrs[name]; set && prev != b {
			return ap.errorf("%s of %s is given twice, as %v and as %v", name, vpc, prev, b)
		}
		attrs[name] = b
	}
	return nil
}
