package channels_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/reactor"
)

// A kernel's stdin as yoton's FileWrapper serves it: lines written with
// WriteLines arrive one message each; ReadNow (yoton's read()) returns
// "" when nothing is there, ReadLineN (readline(size)) cuts a line to
// size characters and drops the rest.
func ExampleReader_ReadNow() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := reactor.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer closeReactor(r)
	ide, kernel, err := connectedPair(ctx, r)
	if err != nil {
		fmt.Println(err)
		return
	}
	pub, err := channels.NewPubChannel(ide, "stdin", channels.Text)
	if err != nil {
		fmt.Println(err)
		return
	}
	sub, err := channels.NewSubChannel(kernel, "stdin", channels.Text)
	if err != nil {
		fmt.Println(err)
		return
	}
	stdin, err := channels.NewReader(sub, channels.WithIsatty(true))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("isatty:", stdin.Isatty())

	m, err := stdin.ReadNow()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("nothing yet: %q\n", m)

	w, err := channels.NewWriter(pub)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := w.WriteLines([]string{"print(1)", "x = 'a long line'\n", "exit()"}); err != nil {
		fmt.Println(err)
		return
	}
	line, err := stdin.ReadLine(ctx) // waits for the first message
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", line)
	line, err = stdin.ReadLineN(ctx, 5)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", line)
	m, err = stdin.ReadMessage(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", m)

	if err := stdin.Close(); err != nil {
		fmt.Println(err)
		return
	}
	_, err = stdin.ReadNow()
	fmt.Println("closed:", errors.Is(err, io.EOF))
	// Output:
	// isatty: true
	// nothing yet: ""
	// "print(1)\n"
	// "x = '"
	// "exit()"
	// closed: true
}
