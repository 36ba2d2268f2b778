// Command gen derives the scenario library from its two hand-written healthy
// bases (healthy-nat, healthy-endpoints): each scenario is a base plus the one
// fault it shows. Run it from the module root after editing a base or a variant:
//
//	go run ./examples/scenarios/gen
//
// then regenerate the goldens: go test ./examples/scenarios -update
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const dir = "examples/scenarios"

func main() {
	bases := map[string]*doc{}
	for _, name := range []string{natBase, endpointsBase} {
		bases[name] = &doc{event: load(name, "event.json"), snap: load(name, "snapshot.json")}
		// Rewrite the bases too, so every file has the same layout and variants diff cleanly.
		write(name, bases[name])
	}
	for _, v := range variants {
		d := bases[v.base].clone()
		if v.reason != "" {
			d.setEvent("detail.stoppedReason", v.reason)
		}
		v.edit(d)
		write(v.name, d)
	}
}

// doc is one scenario being built: its event and snapshot as generic JSON.
type doc struct{ event, snap any }

func (d *doc) clone() *doc {
	return &doc{event: reparse(d.event), snap: reparse(d.snap)}
}

func (d *doc) set(path string, v any)      { apply(d.snap, path, opSet, v) }
func (d *doc) del(path string)             { apply(d.snap, path, opDel, nil) }
func (d *doc) add(path string, v any)      { apply(d.snap, path, opAdd, v) }
func (d *doc) setEvent(path string, v any) { apply(d.event, path, opSet, v) }
func (d *doc) delEvent(path string)        { apply(d.event, path, opDel, nil) }

// image changes the failing container's image in the event and the task definition.
func (d *doc) image(ref string) {
	d.setEvent("detail.containers[0].image", ref)
	d.set("ecs.taskDefinitions[0].containerDefinitions[0].image", ref)
}

// placeTask moves the task to another subnet and private IP.
func (d *doc) placeTask(subnet, ip string) {
	d.setEvent("detail.attachments[0].details[name=subnetId].value", subnet)
	d.setEvent("detail.attachments[0].details[name=privateIPv4Address].value", ip)
	d.setEvent("detail.attachments[0].details[name=privateDnsName].value", "ip-"+strings.ReplaceAll(ip, ".", "-")+".eu-west-1.compute.internal")
	d.setEvent("detail.containers[0].networkInterfaces[0].privateIpv4Address", ip)
}

// standalone turns the service's task into one started by an EventBridge schedule.
func (d *doc) standalone(family, container string) {
	td := fmt.Sprintf("arn:aws:ecs:eu-west-1:111122223333:task-definition/%s:3", family)
	d.setEvent("detail.group", "family:"+family)
	d.setEvent("detail.startedBy", "events-rule/"+family)
	d.setEvent("detail.taskDefinitionArn", td)
	d.setEvent("detail.containers[0].name", container)
	d.set("ecs.taskDefinitions[0].taskDefinitionArn", td)
	d.set("ecs.taskDefinitions[0].family", family)
	d.set("ecs.taskDefinitions[0].revision", 3)
	d.set("ecs.taskDefinitions[0].containerDefinitions[0].name", container)
	d.del("ecs.taskDefinitions[0].containerDefinitions[0].portMappings")
}

// clusterTag sets the cluster's pullmedic:auto-fix opt-in.
func (d *doc) clusterTag(value string) {
	tags := get(d.snap, "ecs.clusters[0].tags").([]any)
	for _, t := range tags {
		if t.(map[string]any)["key"] == "pullmedic:auto-fix" {
			t.(map[string]any)["value"] = value
			return
		}
	}
	d.add("ecs.clusters[0].tags", obj(`{"key": "pullmedic:auto-fix", "value": "`+value+`"}`))
}

// obj parses a JSON literal written in a variant.
func obj(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		log.Fatalf("bad JSON literal %s: %v", s, err)
	}
	return v
}

func reparse(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		log.Fatal(err)
	}
	return obj(string(data))
}

func load(name, file string) any {
	data, err := os.ReadFile(filepath.Join(dir, name, file))
	if err != nil {
		log.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		log.Fatalf("%s/%s: %v", name, file, err)
	}
	return v
}

func write(name string, d *doc) {
	if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
		log.Fatal(err)
	}
	for file, v := range map[string]any{"event.json": d.event, "snapshot.json": d.snap} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, file), buf.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// Paths are dot-separated keys; [N] indexes an array and [Key=Value] picks
// the element whose Key is Value, e.g. ec2.routeTables[RouteTableId=rtb-1].Routes.
type step struct {
	key      string // map key, or "" for an array step
	index    int
	matchKey string // with matchVal: select by field
	matchVal string
}

func parsePath(path string) []step {
	var steps []step
	for path != "" {
		switch {
		case path[0] == '.':
			path = path[1:]
		case path[0] == '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				log.Fatalf("unclosed [ in path %q", path)
			}
			sel := path[1:end]
			path = path[end+1:]
			if k, v, ok := strings.Cut(sel, "="); ok {
				steps = append(steps, step{index: -1, matchKey: k, matchVal: v})
				continue
			}
			n, err := strconv.Atoi(sel)
			if err != nil {
				log.Fatalf("bad index %q", sel)
			}
			steps = append(steps, step{index: n})
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			steps = append(steps, step{key: path[:end]})
			path = path[end:]
		}
	}
	return steps
}

// child follows one step from v; it returns nil when there is nothing there.
func child(v any, s step) any {
	if s.key != "" {
		m, _ := v.(map[string]any)
		return m[s.key]
	}
	arr, _ := v.([]any)
	if i := s.find(arr); i >= 0 {
		return arr[i]
	}
	return nil
}

func (s step) find(arr []any) int {
	if s.matchKey == "" {
		if s.index < len(arr) {
			return s.index
		}
		return -1
	}
	for i, e := range arr {
		if m, ok := e.(map[string]any); ok && fmt.Sprint(m[s.matchKey]) == s.matchVal {
			return i
		}
	}
	return -1
}

func get(root any, path string) any {
	v := root
	for _, s := range parsePath(path) {
		if v = child(v, s); v == nil {
			log.Fatalf("path %q: nothing at %+v", path, s)
		}
	}
	return v
}

type op int

const (
	opSet op = iota
	opDel
	opAdd // append to the array at path (created when missing)
)

// apply changes the value at path: sets or deletes a key or an array element,
// or appends to the array under a key (creating it).
func apply(root any, path string, o op, v any) {
	steps := parsePath(path)
	parentPath := steps[:len(steps)-1]
	parent := root
	for _, s := range parentPath {
		if parent = child(parent, s); parent == nil {
			log.Fatalf("path %q: nothing at %+v", path, s)
		}
	}
	last := steps[len(steps)-1]
	if last.key != "" {
		m, ok := parent.(map[string]any)
		if !ok {
			log.Fatalf("path %q: not an object", path)
		}
		switch o {
		case opSet:
			m[last.key] = v
		case opDel:
			if _, ok := m[last.key]; !ok {
				log.Fatalf("path %q: nothing to delete", path)
			}
			delete(m, last.key)
		case opAdd:
			arr, _ := m[last.key].([]any)
			m[last.key] = append(arr, v)
		}
		return
	}
	// An array element: parent is its array; deleting rewrites the array under its key.
	arr, _ := parent.([]any)
	i := last.find(arr)
	if i < 0 || o == opAdd {
		log.Fatalf("path %q: no such element, or append to an element", path)
	}
	if o == opSet {
		arr[i] = v
		return
	}
	arrPath := path[:strings.LastIndexByte(path, '[')]
	apply(root, arrPath, opSet, append(arr[:i:i], arr[i+1:]...))
}
