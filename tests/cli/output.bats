#!/usr/bin/env bats
# Output conventions: help, version, exit codes, plain/machine/JSON, -q, --no-color.

load helpers

commands=(
    "node create" "node list" "node show" "node start" "node stop" "node delete" "node logs"
    "node default" "reset" "message send" "service start" "service list" "worker list"
    "tcp-listener create" "tcp-listener list" "tcp-listener show" "tcp-listener delete"
    "tcp-connection create" "tcp-connection list" "tcp-connection show" "tcp-connection delete"
)

@test "--version and -V print the version and the commit" {
    run ockam --version
    assert_success
    assert_line --index 0 --regexp '^ockam [0-9]+\.[0-9]+\.[0-9]+$'
    # The commit it was built from, as Ockam's prints it ("compiled from: <hash>"): a commit of
    # this repository (HEAD when the build is current).
    assert_line --index 1 --regexp '^compiled from: [0-9a-f]{12}$'
    commit=${lines[1]#compiled from: }
    git -C "$BATS_TEST_DIRNAME" cat-file -e "$commit^{commit}"
    run ockam -V
    assert_success
    assert_line --index 0 --regexp '^ockam [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "--help and -h work on every command and group" {
    run ockam --help
    assert_success
    assert_output --partial "Usage: ockam"
    for group in node message service worker tcp-listener tcp-connection reset; do
        run ockam $group --help
        assert_success
        assert_output --partial "Usage: ockam $group"
    done
    for cmd in "${commands[@]}"; do
        run ockam $cmd --help
        assert_success
        assert_output --partial "Usage: ockam $cmd"
        run ockam $cmd -h
        assert_success
        assert_output --partial "Global options:"
    done
}

@test "usage errors exit 64" {
    run ockam
    assert_failure 64
    run ockam nope
    assert_failure 64
    assert_output --partial "Unknown command 'nope'"
    run ockam node nope
    assert_failure 64
    run ockam node list --nope
    assert_failure 64
    assert_output --partial "Unknown option '--nope'"
    run ockam node list extra
    assert_failure 64
    run ockam node list --output yaml
    assert_failure 64
    run ockam node start --nope
    assert_failure 64
}

@test "JSON output parses for every command" {
    j() { run --separate-stderr ockam "$@" --output json; assert_success; jq -e . <<<"$output" >/dev/null; }
    j node create n1
    j node create n2
    j node list
    j node show n1
    j node logs n1
    j node default
    j node default n2
    j message send hi --to /node/n1/service/echo
    j service start hop --addr h1 --at n1
    j service list --at n1
    j worker list --at n1
    j tcp-listener create 127.0.0.1:0 --at n1
    j tcp-listener list --at n1
    extra=$(ockam tcp-listener list --at n1 --output json | jq -r '.[] | select(.main==false) | .address')
    j tcp-listener show "$extra" --at n1
    j tcp-listener delete "$extra" --at n1 -y
    j tcp-connection create --from n1 --to "127.0.0.1:$(node_port n2)"
    c=$(jq -r .route <<<"$output")
    j tcp-connection list --at n1
    j tcp-connection show "$c" --at n1
    j tcp-connection delete "$c" --at n1 -y
    j node stop n1
    j node start n1
    j node delete n2 -y
    j node delete --all -y
    j reset -y
}

@test "a terminal gets plain text, a pipe the machine form" {
    run script -qec "$OCKAM node create n1" /dev/null
    assert_success
    assert_output --partial "Created a new Node named n1"
    run ockam node create n2
    assert_output "n2"
    run script -qec "$OCKAM node list" /dev/null
    assert_output --partial "Node n1 (default) UP"
}

@test "--no-color and NO_COLOR remove colours; -q silences status lines but not errors" {
    unset NO_COLOR
    ockam node create n1
    run script -qec "$OCKAM node list --no-color" /dev/null
    refute_output --partial $'\033['
    run script -qec "$OCKAM node list" /dev/null
    assert_output --partial $'\033['
    run ockam service start hop --addr h1 --at n1 -q
    assert_success
    refute_output --partial "SECURITY WARNING"
    run ockam node show nope -q
    assert_failure 70
    assert_output --partial "The node nope was not found"
}

@test "OCKAM_HOME isolates state" {
    ockam node create n1
    other=$(mktemp -d)
    run env OCKAM_HOME="$other" "$OCKAM" node list --output json
    assert_output "[]"
    rm -rf "$other"
}
