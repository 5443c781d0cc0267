queue = ["ana", "bo", "cy"]; served_last = queue[len(queue) - 1]; assert served_last == "cy"
