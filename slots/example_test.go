package slots_test

import (
	"fmt"

	"github.com/goyoton/yoton/slots"
)

func ExampleID() {
	// A Python channel yoton.PubChannel(ctx, "Chat") sends on this slot.
	fmt.Println(slots.FullName("Chat", "txt", "pub-sub"))
	fmt.Println(slots.ID("Chat", "txt", "pub-sub"))
	// Output:
	// chat.txt.pub-sub
	// 17460451874447
}

func ExampleParseAddress() {
	for _, s := range []string{"localhost:chat", "TCP://LocalHost:chat+3", "example.com:8080", "localhost"} {
		a, err := slots.ParseAddress(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(a.Protocol, a.String())
	}
	// Output:
	// tcp 127.0.0.1:49264
	// tcp 127.0.0.1:49267
	// tcp example.com:8080
	// yoton: invalid address "localhost": missing ':' between host and port
}
